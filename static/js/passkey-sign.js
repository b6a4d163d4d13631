// Signing or releasing with a passkey. The server makes the challenge from the SHA-256 of exactly
// what this form would sign (plus a nonce); the page shows that hash while the passkey asks; the
// passkey's answer goes back with the form, and the server signs only if the hash still matches.
(() => {
  const toBuffer = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  };
  const toText = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  document.querySelectorAll("[data-passkey-submit]").forEach((button) => {
    const form = button.closest("form");
    const status = form.querySelector("[data-passkey-status]");
    const answer = form.querySelector("[data-passkey-answer]");
    const label = button.innerHTML;
    const say = (text) => { status.textContent = text; };

    button.addEventListener("click", async () => {
      if (!window.PublicKeyCredential) {
        say("This browser cannot use passkeys; use your authenticator app's code.");
        return;
      }
      button.disabled = true;
      say("Preparing exactly what you sign…");
      answer.value = "";
      const body = new FormData(form);
      let data;
      try {
        const response = await fetch(button.dataset.optionsUrl, {
          method: "POST",
          body,
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
        });
        data = await response.json();
        if (!response.ok) {
          // The draft cannot be signed as it stands: the page itself says what to fix.
          if (data.form_errors) { form.submit(); return; }
          throw new Error(data.detail || "the server refused");
        }
      } catch (error) {
        say(`Could not prepare the signature: ${error.message}`);
        button.disabled = false;
        return;
      }
      say(`Your passkey is signing ${data.summary} — SHA-256 ${data.sha256}`);
      button.textContent = "Waiting for your passkey…";
      try {
        const options = data.options;
        const credential = await navigator.credentials.get({
          publicKey: {
            ...options,
            challenge: toBuffer(options.challenge),
            allowCredentials: (options.allowCredentials || []).map((c) => ({ ...c, id: toBuffer(c.id) })),
          },
        });
        const r = credential.response;
        answer.value = JSON.stringify({
          id: credential.id,
          rawId: toText(credential.rawId),
          type: credential.type,
          response: {
            clientDataJSON: toText(r.clientDataJSON),
            authenticatorData: toText(r.authenticatorData),
            signature: toText(r.signature),
            ...(r.userHandle ? { userHandle: toText(r.userHandle) } : {}),
          },
          clientExtensionResults: credential.getClientExtensionResults(),
        });
      } catch (error) {
        say(error.name === "NotAllowedError"
          ? "The passkey was not used (cancelled or timed out); nothing was signed."
          : `The passkey could not sign: ${error.message}`);
        button.disabled = false;
        button.innerHTML = label;
        return;
      }
      say("Signed by your passkey; saving…");
      form.submit();
    });
  });
})();
