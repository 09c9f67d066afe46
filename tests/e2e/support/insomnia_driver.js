'use strict';
// Runs an Insomnia plugin outside Insomnia (the app itself cannot run in the tests): loads the
// plugin package the way Insomnia does (require() of its directory, package.json "main"),
// calls its request hooks and template tags with context objects shaped like Insomnia's
// documented plugin API (developer.konghq.com/insomnia/context-object-reference), sends the
// resulting request itself, over real TLS, trusting only the test CA, and calls its response
// hooks with the answer (and the request sent, as Insomnia passes it).
//
//   node insomnia_driver.js < steps.json > results.json
//
// Input: {"plugin": DIR, "ca": FILE, "steps": [STEP...]}, where a STEP is
//   {"hook": {"url": U, "method": "GET", "environment": {...}, "headers": {...}, "auth": {...}}}
//   {"tag": {"name": N, "args": [...], "environment": {...}, "purpose": "send", "url": U}}
// Output: {"plugin": {"requestHooks": N, "responseHooks": N, "templateTags": [{name, displayName, args,
// disablePreview}]}, "results": [RESULT...]}, one RESULT per step, never a token:
//   {"error": message|null, "authorization": "absent"|"bearer"|"other",
//    "sent": bool, "status": N|null, "body": text|null, "storeWrites": N, "alerts": [...]}
// Only URLs on 127.0.0.1 are sent; others are judged by the hook alone.

const fs = require('fs');
const https = require('https');
const http = require('http');

function headerIndex(headers, name) {
  return headers.findIndex((h) => h.name.toLowerCase() === name.toLowerCase());
}

// The request context of Insomnia's plugin API, over a plain object.
function requestContext(spec) {
  let url = spec.url;
  let method = spec.method || 'GET';
  const headers = Object.entries(spec.headers || {}).map(([name, value]) => ({ name, value }));
  const parameters = [];
  const environment = Object.assign({}, spec.environment || {});
  const auth = Object.assign({}, spec.auth || {});
  return {
    getId: () => 'req_test',
    getName: () => 'test request',
    getUrl: () => url,
    setUrl: (value) => { url = value; },
    getMethod: () => method,
    setMethod: (value) => { method = value; },
    getHeaders: () => headers.map((h) => Object.assign({}, h)),
    getHeader: (name) => {
      const i = headerIndex(headers, name);
      return i < 0 ? null : headers[i].value;
    },
    hasHeader: (name) => headerIndex(headers, name) >= 0,
    removeHeader: (name) => {
      for (let i = headerIndex(headers, name); i >= 0; i = headerIndex(headers, name)) {
        headers.splice(i, 1);
      }
    },
    setHeader: (name, value) => {
      const i = headerIndex(headers, name);
      if (i < 0) headers.push({ name, value }); else headers[i].value = value;
    },
    addHeader: (name, value) => { headers.push({ name, value }); },
    getParameter: (name) => {
      const p = parameters.find((x) => x.name === name);
      return p ? p.value : null;
    },
    getParameters: () => parameters.slice(),
    setParameter: (name, value) => { parameters.push({ name, value }); },
    hasParameter: (name) => parameters.some((x) => x.name === name),
    addParameter: (name, value) => { parameters.push({ name, value }); },
    removeParameter: (name) => {
      const i = parameters.findIndex((x) => x.name === name);
      if (i >= 0) parameters.splice(i, 1);
    },
    getBody: () => ({}),
    setBody: () => {},
    getEnvironmentVariable: (name) => environment[name],
    getEnvironment: () => Object.assign({}, environment),
    setAuthenticationParameter: (name, value) => { auth[name] = value; },
    getAuthentication: () => Object.assign({}, auth),
    setCookie: () => {},
    settingSendCookies: () => {},
    settingStoreCookies: () => {},
    settingEncodeUrl: () => {},
    settingDisableRenderRequestBody: () => {},
    settingFollowRedirects: () => {},
    _final: () => ({ url, method, headers })
  };
}

function commonContext(state) {
  const items = new Map();
  return {
    app: {
      alert: async (title, message) => { state.alerts.push(String(title) + ': ' + String(message)); },
      dialog: () => {},
      prompt: async () => '',
      getPath: () => '/nonexistent',
      getInfo: () => ({ version: '10.0.0', platform: process.platform }),
      showSaveDialog: async () => null,
      clipboard: { readText: () => '', writeText: () => {}, clear: () => {} }
    },
    store: {
      hasItem: async (key) => items.has(key),
      setItem: async (key, value) => { state.storeWrites += 1; items.set(key, String(value)); },
      getItem: async (key) => (items.has(key) ? items.get(key) : null),
      removeItem: async (key) => { items.delete(key); },
      clear: async () => { items.clear(); },
      all: async () => Array.from(items, ([key, value]) => ({ key, value }))
    },
    network: {
      sendRequest: async () => { throw new Error('context.network is not available in tests'); }
    }
  };
}

function send(final, ca) {
  const target = new URL(final.url);
  if (target.hostname !== '127.0.0.1' || !/^https?:$/.test(target.protocol)) {
    return Promise.resolve(null);
  }
  const headers = {};
  for (const h of final.headers) headers[h.name] = h.value;
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(target, {
      method: final.method, headers, ca: target.protocol === 'https:' ? ca : undefined,
      agent: false, timeout: 30000
    }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.end();
  });
}

// The response context of Insomnia's plugin API, over an answer.
function responseContext(answer) {
  return {
    getRequestId: () => 'req_test',
    getStatusCode: () => answer.status,
    getStatusMessage: () => '',
    getBytesRead: () => Buffer.byteLength(answer.body),
    getTime: () => 0,
    getBody: () => Buffer.from(answer.body),
    setBody: () => {},
    getHeader: () => null,
    getHeaders: () => [],
    hasHeader: () => false
  };
}

async function runResponseHooks(plugin, final, answer, state) {
  const request = requestContext({ url: final.url, method: final.method,
                                   headers: Object.fromEntries(final.headers.map((h) => [h.name, h.value])) });
  const context = Object.assign(commonContext(state), { request, response: responseContext(answer) });
  for (const hook of plugin.responseHooks || []) {
    await hook(context);
  }
}

function authorizationKind(final) {
  const h = final.headers.find((x) => x.name.toLowerCase() === 'authorization');
  if (!h) return 'absent';
  return /^Bearer [^\s]+$/.test(h.value) ? 'bearer' : 'other';
}

async function runStep(plugin, step, ca) {
  const state = { storeWrites: 0, alerts: [] };
  const result = { error: null, authorization: 'absent', sent: false, status: null, body: null };
  let final;
  try {
    if (step.hook) {
      const request = requestContext(step.hook);
      const context = Object.assign(commonContext(state), { request });
      for (const hook of plugin.requestHooks || []) {
        await hook(context);
      }
      final = request._final();
    } else {
      const spec = step.tag;
      const tag = (plugin.templateTags || []).find((t) => t.name === spec.name);
      if (!tag) throw new Error('no template tag ' + spec.name);
      const environment = Object.assign({}, spec.environment || {});
      const renderContext = Object.assign({}, environment, {
        getEnvironmentId: () => 'env_test',
        getPurpose: () => spec.purpose || 'send',
        getMeta: () => ({ requestId: 'req_test', workspaceId: 'wrk_test' }),
        getKeysContext: () => ({ keyContext: {} }),
        getExtraInfo: () => null,
        getProjectId: () => 'proj_test'
      });
      const context = Object.assign(commonContext(state), {
        context: renderContext,
        meta: renderContext.getMeta(),
        renderPurpose: spec.purpose || 'send',
        util: { render: async (s) => s, models: {} }
      });
      const value = await tag.run(context, ...(spec.args || []));
      if (typeof value !== 'string') throw new Error('the tag rendered a ' + typeof value);
      final = { url: spec.url, method: 'GET', headers: [{ name: 'Authorization', value: 'Bearer ' + value }] };
    }
  } catch (error) {
    result.error = String(error && error.message ? error.message : error);
  }
  result.storeWrites = state.storeWrites;
  result.alerts = state.alerts;
  if (!result.error) {
    result.authorization = authorizationKind(final);
    const answer = await send(final, ca);
    if (answer) {
      result.sent = true;
      result.status = answer.status;
      result.body = answer.body;
      await runResponseHooks(plugin, final, answer, state);
    }
  }
  return result;
}

async function main() {
  const input = JSON.parse(fs.readFileSync(0, 'utf8'));
  const plugin = require(input.plugin);
  const ca = fs.readFileSync(input.ca);
  const results = [];
  for (const step of input.steps) {
    results.push(await runStep(plugin, step, ca));
  }
  const described = {
    requestHooks: (plugin.requestHooks || []).length,
    responseHooks: (plugin.responseHooks || []).length,
    templateTags: (plugin.templateTags || []).map((t) => ({
      name: t.name,
      displayName: t.displayName,
      args: (t.args || []).length,
      disablePreview: typeof t.disablePreview === 'function' ? t.disablePreview([]) : null
    }))
  };
  process.stdout.write(JSON.stringify({ plugin: described, results }) + '\n');
}

main().catch((error) => {
  process.stderr.write('insomnia_driver: ' + (error && error.stack ? error.stack : error) + '\n');
  process.exit(1);
});
