// iotspot-helper for Postman and newman: a collection-level post-response script.
//
// Paste this file into your collection's Scripts > Post-response tab, beside pre-request.js
// (the sample collection iotspot.postman_collection.json already has both). When the API
// answers 401 to a request that carried the token pre-request.js set (the token was refused
// before it expired: a rotated secret, a revoked token), it forgets the token kept in
// iotspot_token_cache and asks `iotspot-helper serve` to drop its cached one
// (DELETE /v1/token), so the next request gets a fresh token. The refused request itself is
// not sent again: send it once more. Same variables as pre-request.js; the token is never
// logged.
(function iotspotPostResponse() {
  const DEFAULT_HELPER_URL = 'http://127.0.0.1:47381';
  const CACHE_VARIABLE = 'iotspot_token_cache';

  if (pm.response.code !== 401) {
    return;
  }
  let cached = null;
  try {
    cached = JSON.parse(pm.collectionVariables.get(CACHE_VARIABLE) || 'null');
  } catch (e) {
    cached = null;
  }
  const sent = pm.request.headers.get('Authorization');
  if (!cached || typeof cached.token !== 'string' || sent !== 'Bearer ' + cached.token) {
    return; // not a token of ours
  }
  pm.collectionVariables.set(CACHE_VARIABLE, '');

  const helperUrl = String(pm.variables.get('iotspot_helper_url') || DEFAULT_HELPER_URL)
    .trim().replace(/\/+$/, '');
  // pre-request.js checked that this is http://127.0.0.1 or localhost before it used it.
  if (helperUrl !== cached.helper) {
    return;
  }
  const profile = String(pm.variables.get('iotspot_profile') || '').trim();
  const key = String(pm.variables.get('iotspot_helper_key') || '').trim();
  pm.sendRequest({
    url: helperUrl + '/v1/token' + (profile ? '?profile=' + encodeURIComponent(profile) : ''),
    method: 'DELETE',
    header: [{ key: 'X-Iotspot-Key', value: key }, { key: 'Accept', value: 'application/json' }]
  }, function (error, response) {
    if (error || response.code !== 200) {
      console.warn('iotspot: the API refused the token, and iotspot-helper serve at ' + helperUrl +
                   ' could not drop it (' + (error ? error.code || error.message
                                                   : 'HTTP ' + response.code) +
                   '); run `iotspot-helper logout` before the next request');
      return;
    }
    console.info('iotspot: the API refused the token; dropped it, so the next request gets ' +
                 'a fresh one');
  });
})();
