"""The signed-in person's own things: API tokens (django-rest-knox) and the password change."""
