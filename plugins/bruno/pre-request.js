// iotspot-helper for Bruno (the app and `bru run`): a collection-level pre-request script.
//
// Paste this file into Collection settings > Script > Pre Request (the sample collection in
// this folder already has it). Before each request of the collection it sets
// "Authorization: Bearer <token>" with a token from iotspot-helper. Environment variables:
//
//   iotspot_helper_key  the output of `iotspot-helper serve --print-key` (make it a secret
//                       variable); or the process environment's IOTSPOT_HELPER_KEY
//   iotspot_helper_url  default http://127.0.0.1:47381 (`iotspot-helper serve --port N`)
//   iotspot_profile     optional: the helper profile (default: the one serve was started with,
//                       or, when the helper is run directly, IOTSPOT_PROFILE or "default")
//
// Safe Mode: the token comes from `iotspot-helper serve`, the local token endpoint, which must
// be running; the key is required. Developer Mode without a key: the script runs
// `iotspot-helper token --json` itself (no shell; the token comes back on its standard output,
// never on a command line), so no serve is needed. The helper: iotspot_helper_path (or
// IOTSPOT_HELPER), else iotspot-helper on PATH, in ~/.local/bin or /usr/local/bin.
//
// The token is kept in the runtime variable iotspot_token_cache (memory only, never written
// to the collection) and reused while more than 60 seconds of its life remain, so most
// requests make no call at all. It is never logged, and never sent over plain http except to
// this machine. When no token can be had the script fails with a message saying why, and the
// request is not sent.
//
// docs/integrations.md has the setup. tests/e2e/test_bruno.py runs this file with `bru run` in
// both modes and checks that the sample collection embeds exactly this file
// (scripts/embed-plugin-scripts.js copies it there).
//
// Everything is inside one function: Bruno may join the collection's, folders' and request's
// scripts into one, and nothing here must clash with names there.
await (async function iotspot() {
  const DEFAULT_HELPER_URL = 'http://127.0.0.1:47381';
  const CACHE_VARIABLE = 'iotspot_token_cache';
  const REUSE_MARGIN_MS = 60 * 1000;

  function iotspotFail(message) {
    throw new Error('iotspot: ' + message);
  }

  // scheme and host (lower-case, without port) of a URL; "http" when it has no scheme, as Bruno
  // sends it.
  function iotspotParseUrl(url) {
    const match = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url);
    return {
      scheme: ((match && match[1]) || 'http').toLowerCase(),
      host: ((match && match[2]) || '').toLowerCase().replace(/^\[|\]$/g, '')
    };
  }

  function iotspotIsLoopback(host) {
    return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  }

  function iotspotSetting(variable, processVariable) {
    const value = bru.getEnvVar(variable) || bru.getVar(variable) ||
      (processVariable ? bru.getProcessEnv(processVariable) : '');
    return value === undefined || value === null ? '' : String(value).trim();
  }

  // child_process in Developer Mode; null in Safe Mode, where require() knows no such module.
  function iotspotChildProcess() {
    try {
      const childProcess = require('child_process');
      return childProcess && typeof childProcess.execFile === 'function' ? childProcess : null;
    } catch (e) {
      return null;
    }
  }

  // GET /v1/token of `iotspot-helper serve`: resolves to its JSON answer, or fails.
  async function iotspotFromEndpoint(helperUrl, key, profile) {
    let response;
    try {
      response = await bru.sendRequest({
        method: 'GET',
        url: helperUrl + '/v1/token' + (profile ? '?profile=' + encodeURIComponent(profile) : ''),
        headers: { 'X-Iotspot-Key': key, Accept: 'application/json' },
        proxy: false,
        timeout: 30000,
        validateStatus: null
      });
    } catch (error) {
      iotspotFail('cannot reach iotspot-helper serve at ' + helperUrl + ' (' +
                  ((error && (error.code || error.message)) || 'no answer') +
                  '); start it with `iotspot-helper serve` (is iotspot-helper installed?)');
    }
    let body = response.data;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch (e) {
        body = null;
      }
    }
    if (response.status === 401) {
      iotspotFail('iotspot-helper serve at ' + helperUrl + ' refused iotspot_helper_key (' +
                  ((body && body.error) || 'HTTP 401') + '); set it to the output of ' +
                  '`iotspot-helper serve --print-key`');
    }
    if (response.status !== 200) {
      iotspotFail('iotspot-helper serve at ' + helperUrl + ' answered ' + response.status +
                  (body && body.error ? ' ' + body.error : '') + ': ' +
                  ((body && body.message) || 'no explanation'));
    }
    if (!body || typeof body.access_token !== 'string' || !body.access_token) {
      iotspotFail(helperUrl + ' is not iotspot-helper serve: its answer has no access_token');
    }
    return body;
  }

  // `iotspot-helper [--profile P] token --json`, run without a shell (Developer Mode).
  function iotspotFromExecutable(childProcess, profile) {
    const explicit = iotspotSetting('iotspot_helper_path', 'IOTSPOT_HELPER');
    const home = bru.getProcessEnv('HOME');
    // An app started from the desktop may lack ~/.local/bin on its PATH.
    const candidates = explicit ? [explicit]
      : ['iotspot-helper', home && home + '/.local/bin/iotspot-helper',
         '/usr/local/bin/iotspot-helper'].filter(Boolean);
    const args = (profile ? ['--profile', profile] : []).concat(['token', '--json']);
    return new Promise((resolve, reject) => {
      const attempt = (index) => {
        const helper = candidates[index];
        const child = childProcess.execFile(helper, args, { timeout: 60000 },
          (error, stdout, stderr) => {
            if (error && (error.code === 'ENOENT' || error.code === 'EACCES')) {
              if (index + 1 < candidates.length) {
                attempt(index + 1);
                return;
              }
              reject(new Error('iotspot: ' + (explicit
                ? 'iotspot_helper_path names ' + explicit + ', which cannot be run'
                : 'iotspot-helper is not installed (not on PATH, in ~/.local/bin or ' +
                  '/usr/local/bin); install it, set iotspot_helper_path, or set ' +
                  'iotspot_helper_key to use `iotspot-helper serve`')));
              return;
            }
            if (error) {
              const said = String(stderr || '').trim().split('\n').pop();
              reject(new Error('iotspot: ' + (said || helper + ' failed: ' + error.message)));
              return;
            }
            try {
              resolve(JSON.parse(stdout));
            } catch (e) {
              reject(new Error('iotspot: ' + helper + ' token --json printed no JSON'));
            }
          });
        child.stdin.end();
      };
      attempt(0);
    });
  }

  async function iotspotPreRequest() {
    const target = iotspotParseUrl(bru.interpolate(req.getUrl()));
    if (target.scheme !== 'https' && !iotspotIsLoopback(target.host)) {
      iotspotFail('refusing to send the token over plain ' + target.scheme + ' to ' + target.host +
                  '; use an https:// URL');
    }
    const helperUrl = (iotspotSetting('iotspot_helper_url', 'IOTSPOT_HELPER_URL') ||
                       DEFAULT_HELPER_URL).replace(/\/+$/, '');
    const helper = iotspotParseUrl(helperUrl);
    if (helper.scheme !== 'http' || !iotspotIsLoopback(helper.host)) {
      iotspotFail('iotspot_helper_url must be http://127.0.0.1:PORT or http://localhost:PORT ' +
                  '(it is "' + helperUrl + '"): the key is only ever sent to this machine');
    }
    const profile = iotspotSetting('iotspot_profile', null);
    const key = iotspotSetting('iotspot_helper_key', 'IOTSPOT_HELPER_KEY');
    const childProcess = key ? null : iotspotChildProcess();
    const source = key ? helperUrl : 'exec';

    let cached = null;
    try {
      cached = JSON.parse(bru.getVar(CACHE_VARIABLE) || 'null');
    } catch (e) {
      cached = null;
    }
    if (!(cached && cached.source === source && cached.profile === profile &&
          typeof cached.token === 'string' && cached.reuseUntil > Date.now())) {
      if (!key && !childProcess) {
        iotspotFail('the environment variable iotspot_helper_key is not set; set it (secret) to ' +
                    'the output of `iotspot-helper serve --print-key`, or switch the collection ' +
                    'to Developer Mode to run iotspot-helper directly');
      }
      const started = Date.now();
      const answer = key ? await iotspotFromEndpoint(helperUrl, key, profile)
                         : await iotspotFromExecutable(childProcess, profile);
      if (typeof answer.access_token !== 'string' || typeof answer.expires_in !== 'number') {
        iotspotFail('iotspot-helper answered without access_token or expires_in');
      }
      cached = {
        source: source,
        profile: profile,
        token: answer.access_token,
        reuseUntil: started + answer.expires_in * 1000 - REUSE_MARGIN_MS
      };
      bru.setVar(CACHE_VARIABLE, JSON.stringify(cached));
    }
    req.setHeader('Authorization', 'Bearer ' + cached.token);
  }

  await iotspotPreRequest();
})();
