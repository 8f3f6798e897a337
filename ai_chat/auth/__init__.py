"""Who is asking: accounts, sign-in sessions and the trusted-proxy mode.

The guide is README.md, "Deploying for others". `identity` resolves a request's user (from
the HttpOnly session cookie the socket's handshake carried, or the proxy's header);
`accounts` signs people in and manages users; `http` holds the few HTTP endpoints that set
and clear the cookie (a socket can't); `asgi` guards what reaches the event socket.
"""
