// iotspot-helper for Postman and newman: a collection-level pre-request script.
//
// Paste this file into your collection's Scripts > Pre-request tab (the sample collection
// iotspot.postman_collection.json already has it). Before each request of the collection it
// sets "Authorization: Bearer <token>", with a token from `iotspot-helper serve` (the local
// token endpoint). Variables, from the environment or the collection:
//
//   iotspot_helper_key  required: the output of `iotspot-helper serve --print-key`
//                       (make it a secret-type variable)
//   iotspot_helper_url  default http://127.0.0.1:47381 (`iotspot-helper serve --port N`)
//   iotspot_profile     optional: the helper profile (default: the one serve was started with)
//
// The token is kept in the collection variable iotspot_token_cache (its current value, which
// Postman keeps on this machine and does not sync) and reused while more than 60 seconds of
// its life remain, so most requests make no call at all. It is never logged. It is not sent
// over plain http except to this machine. When no token can be had the script fails with a
// message saying why (in the console, the test results and as a script error) and the
// request is not sent.
//
// docs/integrations.md has the setup. tests/e2e/test_postman.py runs this file with newman and
// checks that the sample collection embeds exactly this file (scripts/embed-plugin-scripts.js
// copies it there).
(function iotspotPreRequest() {
  const DEFAULT_HELPER_URL = 'http://127.0.0.1:47381';
  const CACHE_VARIABLE = 'iotspot_token_cache';
  const REUSE_MARGIN_MS = 60 * 1000;

  // Reports a failure where Postman and newman both show it (the console, the test results,
  // the script error) and keeps the request from being sent without a token.
  function fail(message) {
    const text = 'iotspot: ' + message;
    console.error(text);
    pm.test(text, function () {
      throw new Error(text);
    });
    if (pm.execution && typeof pm.execution.skipRequest === 'function') {
      pm.execution.skipRequest();
    }
    throw new Error(text);
  }

  // scheme and host (lower-case, without port) of an absolute URL; scheme "http" when absent,
  // as Postman sends it.
  function parseUrl(url) {
    const match = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url);
    return {
      scheme: ((match && match[1]) || 'http').toLowerCase(),
      host: ((match && match[2]) || '').toLowerCase().replace(/^\[|\]$/g, '')
    };
  }

  function isLoopback(host) {
    return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  }

  const target = parseUrl(pm.variables.replaceIn(pm.request.url.toString()));
  if (target.scheme !== 'https' && !isLoopback(target.host)) {
    fail('refusing to send the token over plain ' + target.scheme + ' to ' + target.host +
         '; use an https:// URL');
  }

  const helperUrl = String(pm.variables.get('iotspot_helper_url') || DEFAULT_HELPER_URL)
    .trim().replace(/\/+$/, '');
  const helper = parseUrl(helperUrl);
  if (helper.scheme !== 'http' || !isLoopback(helper.host)) {
    fail('iotspot_helper_url must be http://127.0.0.1:PORT or http://localhost:PORT (it is "' +
         helperUrl + '"): the key is only ever sent to this machine');
  }
  const profile = String(pm.variables.get('iotspot_profile') || '').trim();

  function useToken(token) {
    pm.request.headers.upsert({ key: 'Authorization', value: 'Bearer ' + token });
  }

  let cached = null;
  try {
    cached = JSON.parse(pm.collectionVariables.get(CACHE_VARIABLE) || 'null');
  } catch (e) {
    cached = null;
  }
  if (cached && cached.helper === helperUrl && cached.profile === profile &&
      typeof cached.token === 'string' && cached.reuseUntil > Date.now()) {
    useToken(cached.token);
    return;
  }

  const key = String(pm.variables.get('iotspot_helper_key') || '').trim();
  if (!key) {
    fail('the variable iotspot_helper_key is not set; set it (type secret) to the output of ' +
         '`iotspot-helper serve --print-key`');
  }

  const started = Date.now();
  pm.sendRequest({
    url: helperUrl + '/v1/token' + (profile ? '?profile=' + encodeURIComponent(profile) : ''),
    method: 'GET',
    header: [{ key: 'X-Iotspot-Key', value: key }, { key: 'Accept', value: 'application/json' }]
  }, function (error, response) {
    if (error) {
      fail('cannot reach iotspot-helper serve at ' + helperUrl + ' (' +
           (error.code || error.message) + '); start it with `iotspot-helper serve`' +
           ' (is iotspot-helper installed?)');
    }
    let body = null;
    try {
      body = response.json();
    } catch (e) {
      body = null;
    }
    if (response.code === 401) {
      fail('iotspot-helper serve at ' + helperUrl + ' refused iotspot_helper_key (' +
           ((body && body.error) || 'HTTP 401') + '); set it to the output of ' +
           '`iotspot-helper serve --print-key`');
    }
    if (response.code !== 200) {
      fail('iotspot-helper serve at ' + helperUrl + ' answered ' + response.code +
           (body && body.error ? ' ' + body.error : '') + ': ' +
           ((body && body.message) || 'no explanation'));
    }
    if (!body || typeof body.access_token !== 'string' || !body.access_token ||
        typeof body.expires_in !== 'number') {
      fail(helperUrl + ' is not iotspot-helper serve: its answer has no access_token');
    }
    pm.collectionVariables.set(CACHE_VARIABLE, JSON.stringify({
      helper: helperUrl,
      profile: profile,
      token: body.access_token,
      reuseUntil: started + body.expires_in * 1000 - REUSE_MARGIN_MS
    }));
    useToken(body.access_token);
  });
})();
