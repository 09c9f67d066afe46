// iotspot-helper for Bruno (the app and `bru run`): a collection-level post-response script.
//
// Paste this file into Collection settings > Script > Post Response, beside pre-request.js
// (the sample collection in this folder already has both). When the API answers 401 to a
// request that carried the token pre-request.js set (the token was refused before it expired:
// a rotated secret, a revoked token), it forgets the token kept in iotspot_token_cache and
// drops the helper's cached one: through `iotspot-helper serve` (DELETE /v1/token) when
// iotspot_helper_key is set, else (Developer Mode) by running `iotspot-helper logout`. The
// next request then gets a fresh token; the refused one is not sent again. Same variables as
// pre-request.js; the token is never logged.
await (async function iotspotAfterResponse() {
  const DEFAULT_HELPER_URL = 'http://127.0.0.1:47381';
  const CACHE_VARIABLE = 'iotspot_token_cache';

  function iotspotSetting(variable, processVariable) {
    const value = bru.getEnvVar(variable) || bru.getVar(variable) ||
      (processVariable ? bru.getProcessEnv(processVariable) : '');
    return value === undefined || value === null ? '' : String(value).trim();
  }

  // DELETE /v1/token of `iotspot-helper serve`; true when it answered 200.
  async function iotspotDropAtEndpoint(helperUrl, key, profile) {
    try {
      const response = await bru.sendRequest({
        method: 'DELETE',
        url: helperUrl + '/v1/token' + (profile ? '?profile=' + encodeURIComponent(profile) : ''),
        headers: { 'X-Iotspot-Key': key, Accept: 'application/json' },
        proxy: false,
        timeout: 30000,
        validateStatus: null
      });
      return response.status === 200;
    } catch (error) {
      return false;
    }
  }

  // `iotspot-helper [--profile P] logout`, run without a shell (Developer Mode).
  function iotspotDropWithExecutable(profile) {
    let childProcess = null;
    try {
      childProcess = require('child_process');
    } catch (e) {
      return Promise.resolve(false);
    }
    const helper = iotspotSetting('iotspot_helper_path', 'IOTSPOT_HELPER') || 'iotspot-helper';
    const args = (profile ? ['--profile', profile] : []).concat(['logout']);
    return new Promise((resolve) => {
      const child = childProcess.execFile(helper, args, { timeout: 60000 },
        (error) => resolve(!error));
      child.stdin.end();
    });
  }

  if (res.getStatus() !== 401) {
    return;
  }
  let cached = null;
  try {
    cached = JSON.parse(bru.getVar(CACHE_VARIABLE) || 'null');
  } catch (e) {
    cached = null;
  }
  if (!cached || typeof cached.token !== 'string' ||
      req.getHeader('Authorization') !== 'Bearer ' + cached.token) {
    return; // not a token of ours
  }
  bru.setVar(CACHE_VARIABLE, '');
  const profile = iotspotSetting('iotspot_profile', null);
  const helperUrl = (iotspotSetting('iotspot_helper_url', 'IOTSPOT_HELPER_URL') ||
                     DEFAULT_HELPER_URL).replace(/\/+$/, '');
  // pre-request.js checked the helper URL (http://127.0.0.1 or localhost) before it used it.
  const dropped = cached.source === 'exec' ? await iotspotDropWithExecutable(profile)
    : cached.source === helperUrl &&
      await iotspotDropAtEndpoint(helperUrl, iotspotSetting('iotspot_helper_key',
                                                            'IOTSPOT_HELPER_KEY'), profile);
  console.log(dropped
    ? 'iotspot: the API refused the token; dropped it, so the next request gets a fresh one'
    : 'iotspot: the API refused the token, and iotspot-helper could not drop it; run ' +
      '`iotspot-helper logout` before the next request');
})();
