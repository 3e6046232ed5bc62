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
//  - GET /__test/grants: the grant types the token endpoint answered, in order;
//  - the device authorization grant (RFC 8628), which the library lacks: POST /device/code
//    (service.addRoute), approval at GET /device?user_code=CODE&login=NAME (or &deny=1), and
//    the device_code grant answered at /token before the library's own handler sees it.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Readable } from "node:stream";
import { OAuth2Issuer, OAuth2Service } from "oauth2-mock-server";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const [port, jwkFile, issuerUrl] = process.argv.slice(2);
const issuer = new OAuth2Issuer();
await issuer.keys.add(JSON.parse(readFileSync(jwkFile, "utf8")));
issuer.url = issuerUrl;
const service = new OAuth2Service(issuer);

const codeSub = new Map(); // authorization code -> sub
const codeScope = new Map(); // authorization code -> the scope asked for at /authorize
const refreshSub = new Map(); // refresh token -> sub
const refreshScope = new Map(); // refresh token -> scope of its grant
const revoked = new Set(); // subs whose refresh tokens are refused
const grants = [];
const settings = {
  expires_in: null,
  no_refresh_token: false,
  device_interval: 1,
  device_expires_in: 600,
  device_slow_down: 0, // answer slow_down this many times first
};
const devices = new Map(); // device_code -> {user_code, sub, denied, expires, polls}

function subOf(body) {
  if (body.grant_type === DEVICE_GRANT) return devices.get(body.device_code)?.sub ?? "johndoe";
  if (body.grant_type === "authorization_code") return codeSub.get(body.code) ?? "johndoe";
  if (body.grant_type === "refresh_token") return refreshSub.get(body.refresh_token) ?? "johndoe";
  return body.username ?? "johndoe";
}

// The token's scope claim is the scope of the grant (the library puts the token request's
// scope, absent in a code exchange, or "dummy"); Dovecot checks it (scope = mail).
function scopeOf(body) {
  if (body.grant_type === "authorization_code") return codeScope.get(body.code);
  if (body.grant_type === "refresh_token") return refreshScope.get(body.refresh_token);
  return body.scope;
}

service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const query = new URL(req.url, "http://x").searchParams;
  const code = redirect.url.searchParams.get("code");
  if (query.get("login_hint") && code) codeSub.set(code, query.get("login_hint"));
  if (query.get("scope") && code) codeScope.set(code, query.get("scope"));
});

service.on("beforeTokenSigning", (token, req) => {
  token.payload.sub = subOf(req.body);
  const scope = scopeOf(req.body);
  if (scope !== undefined && token.payload.scope !== undefined) token.payload.scope = scope;
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
  const scope = scopeOf(body);
  if (scope !== undefined) response.body.scope = scope;
  if (response.body.refresh_token) {
    refreshSub.set(response.body.refresh_token, sub);
    refreshScope.set(response.body.refresh_token, scope);
  }
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

service.addRoute("POST", "/device/code", (req, res) => {
  const deviceCode = randomUUID();
  const userCode = Math.random().toString(36).slice(2, 6).toUpperCase() + "-" +
    Math.random().toString(36).slice(2, 6).toUpperCase();
  devices.set(deviceCode, {
    user_code: userCode, sub: null, denied: false, polls: 0, scope: req.body?.scope,
    expires: Date.now() + settings.device_expires_in * 1000,
  });
  sendJson(res, 200, {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: `${issuer.url}/device`,
    verification_uri_complete: `${issuer.url}/device?user_code=${userCode}`,
    expires_in: settings.device_expires_in,
    interval: settings.device_interval,
  });
});
service.addRoute("GET", "/device", (req, res) => {
  const entry = [...devices.values()].find((d) => d.user_code === req.query.user_code);
  if (!entry) return sendJson(res, 404, { error: "unknown user_code" });
  if (req.query.deny) entry.denied = true;
  else entry.sub = req.query.login;
  res.writeHead(200, { "Content-Type": "text/plain" }).end("approved");
});

async function deviceToken(body, res) {
  grants.push(DEVICE_GRANT);
  const entry = devices.get(body.device_code);
  if (!entry) return sendJson(res, 400, { error: "invalid_grant" });
  if (Date.now() > entry.expires) return sendJson(res, 400, { error: "expired_token" });
  if (entry.denied) return sendJson(res, 400, { error: "access_denied" });
  if (settings.device_slow_down > 0) {
    settings.device_slow_down -= 1;
    return sendJson(res, 400, { error: "slow_down" });
  }
  if (!entry.sub) return sendJson(res, 400, { error: "authorization_pending" });
  const req = { body, headers: {} };
  const ttl = settings.expires_in ?? 3600;
  const accessToken = await service.buildToken(req, ttl, (_h, payload) => {
    payload.scope = entry.scope ?? "dummy";
  });
  devices.delete(body.device_code); // after signing: the token's sub comes from the entry
  const refreshToken = randomUUID();
  refreshSub.set(refreshToken, entry.sub);
  refreshScope.set(refreshToken, entry.scope);
  return sendJson(res, 200, {
    access_token: accessToken, token_type: "Bearer", expires_in: ttl,
    refresh_token: refreshToken, scope: entry.scope ?? "dummy",
  });
}

function sendJson(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

// The token endpoint: the device_code grant here, every other request to the library as sent.
const server = createServer(async (req, res) => {
  if (req.method !== "POST" || new URL(req.url, "http://x").pathname !== "/token") {
    return service.requestHandler(req, res);
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks);
  const body = Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
  if (body.grant_type === DEVICE_GRANT) return deviceToken(body, res);
  const replay = Readable.from([raw]);
  Object.assign(replay, { method: req.method, url: req.url, headers: req.headers });
  return service.requestHandler(replay, res);
});
server.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer.url}`));
