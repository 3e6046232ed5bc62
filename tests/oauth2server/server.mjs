// The OAuth2 server of the tests: oauth2-mock-server (npm, pinned in package.json) in its
// library form, started by tests/support/oauth2server.py on a free port of 127.0.0.1.
//   node server.mjs PORT JWK_FILE ISSUER_URL
// It signs with the key the mail stack's Dovecot trusts (tests/support/mailstack.py writes both),
// and adds what the tests need on top of the library's endpoints:
//  - the token's `sub` is the `login_hint` of the authorization request (the test user's name;
//    the library alone always says "johndoe"), kept across refreshes of that grant;
//  - POST /__test/revoke {"sub": NAME}: every refresh token of NAME is refused from then on
//    with `invalid_grant`, as a provider answers a revoked or expired grant;
//  - POST /__test/set {...}: changes the next answers (expires_in, no_refresh_token);
//  - GET /__test/grants: the grant types the token endpoint answered, in order.
// Device authorization (RFC 8628) is to be added here with service.addRoute.
import { readFileSync } from "node:fs";
import { OAuth2Server } from "oauth2-mock-server";

const [port, jwkFile, issuerUrl] = process.argv.slice(2);
const server = new OAuth2Server();
await server.issuer.keys.add(JSON.parse(readFileSync(jwkFile, "utf8")));
server.issuer.url = issuerUrl;
const service = server.service;

const codeSub = new Map(); // authorization code -> sub
const refreshSub = new Map(); // refresh token -> sub
const revoked = new Set(); // subs whose refresh tokens are refused
const grants = [];
const settings = { expires_in: null, no_refresh_token: false };

function subOf(body) {
  if (body.grant_type === "authorization_code") return codeSub.get(body.code) ?? "johndoe";
  if (body.grant_type === "refresh_token") return refreshSub.get(body.refresh_token) ?? "johndoe";
  return body.username ?? "johndoe";
}

service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const hint = new URL(req.url, "http://x").searchParams.get("login_hint");
  const code = redirect.url.searchParams.get("code");
  if (hint && code) codeSub.set(code, hint);
});

service.on("beforeTokenSigning", (token, req) => {
  token.payload.sub = subOf(req.body);
  if (settings.expires_in !== null) {
    token.payload.exp = Math.floor(Date.now() / 1000) + settings.expires_in;
  }
});

service.on("beforeResponse", (response, req) => {
  const body = req.body;
  grants.push(body.grant_type);
  const sub = subOf(body);
  if (body.grant_type === "refresh_token" && (revoked.has(sub) || !refreshSub.has(body.refresh_token))) {
    response.statusCode = 400;
    response.body = { error: "invalid_grant", error_description: "Token has been expired or revoked." };
    return;
  }
  if (settings.expires_in !== null) response.body.expires_in = settings.expires_in;
  if (body.grant_type === "refresh_token" && settings.no_refresh_token) {
    delete response.body.refresh_token; // as Google: a refresh keeps the old refresh token
    return;
  }
  if (response.body.refresh_token) refreshSub.set(response.body.refresh_token, sub);
});

service.addRoute("POST", "/__test/revoke", (req, res) => {
  revoked.add(req.body.sub);
  res.writeHead(204).end();
});
service.addRoute("POST", "/__test/set", (req, res) => {
  Object.assign(settings, req.body);
  res.writeHead(204).end();
});
service.addRoute("GET", "/__test/grants", (_req, res) => {
  res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(grants));
});

await server.start(Number(port), "127.0.0.1");
console.log(`ready ${server.issuer.url}`);
