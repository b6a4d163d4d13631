// The Security page: a passkey made by django-otp-webauthn's register script shows up listed, and
// removing a factor asks first.
document.addEventListener("otp_webauthn.register_complete", () => window.location.reload());
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
