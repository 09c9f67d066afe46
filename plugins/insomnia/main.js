'use strict';
// iotspot-helper for Insomnia: a plugin with a request hook and a template tag.
//
// Insomnia runs a plugin's request hooks for every request of every workspace, so the hook
// decides per request whether it is meant for the iotspot API:
//
//   - the active environment has iotspot_profile: every request of that environment gets
//     `iotspot-helper --profile <it> token --json`'s token;
//   - otherwise the URL decides: `iotspot-helper get` (the credential protocol, the request's
//     protocol, host and path on its standard input) answers with a token only when a
//     configured profile's api_url matches; any other URL is left alone.
//
// A request that carries its own Authorization header or an Insomnia auth setting is left
// alone. The token never goes over plain http to another machine. The helper runs without a
// shell (execFile), and the token comes back on its standard output, never on a command line.
// Tokens are kept in this process's memory only (never in Insomnia's plugin store) and reused
// while more than 60 seconds of their life remain. The helper is iotspot_helper_path from the
// environment if set, else iotspot-helper on PATH, in ~/.local/bin or in /usr/local/bin.
//
// A response hook drops a token the API refused (401) before it expired (a rotated secret, a
// revoked token): the plugin forgets it and runs `iotspot-helper erase` (for a token matched by
// URL) or `iotspot-helper --profile <it> logout`, so the next request gets a fresh one. The
// refused request itself is not sent again.
//
// The template tag "iotspot token" ({% iotspotToken 'profile' %}) renders a token for a
// profile (empty: the environment's iotspot_profile, else the helper's default) wherever
// Insomnia renders tags, e.g. in an Auth > Bearer Token field. See docs/integrations.md.

const childProcess = require('child_process');
const os = require('os');
const path = require('path');

const REUSE_MARGIN_MS = 60 * 1000;   // a token is reused while more than this is left
const NO_MATCH_TTL_MS = 60 * 1000;   // how long "no profile matches this URL" is remembered
const HELPER_TIMEOUT_MS = 60 * 1000; // the helper's own token request gives up after 20 s
const MAX_CACHED = 500;

// Hosts that are evidently meant for iotspot: failures there are reported, never skipped.
const IOTSPOT_HOST = /(^|\.)iotspot\.co$/;

class HelperMissingError extends Error {}

// key -> { token: string|null, until: ms }; "profile:<name>" or "url:<protocol>//<host>/<path>"
const cache = new Map();
// token -> how the helper drops it: { args, input, helperPath } (never logged)
const dropWith = new Map();
let helperMissingUntil = 0;

function cached(key) {
  const entry = cache.get(key);
  if (entry && entry.until > Date.now()) {
    return entry;
  }
  cache.delete(key);
  return null;
}

function remember(key, token, until) {
  if (cache.size >= MAX_CACHED) {
    cache.clear();
    dropWith.clear();
  }
  cache.set(key, { token: token, until: until });
}

function isLoopback(hostname) {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function looksLikeIotspot(hostname) {
  return IOTSPOT_HOST.test(hostname.toLowerCase());
}

function helperCandidates(explicit) {
  if (explicit) {
    return [explicit];
  }
  // An app started from the desktop may lack ~/.local/bin on its PATH.
  return ['iotspot-helper', path.join(os.homedir(), '.local', 'bin', 'iotspot-helper'),
          '/usr/local/bin/iotspot-helper'];
}

// Runs the helper with `args` and `input` on its standard input, without a shell. Resolves to
// { status, stdout, stderr }; rejects with HelperMissingError when no candidate can be run.
function runHelper(explicit, args, input) {
  if (!explicit && helperMissingUntil > Date.now()) {
    return Promise.reject(new HelperMissingError(missingMessage(explicit)));
  }
  const candidates = helperCandidates(explicit);
  return new Promise((resolve, reject) => {
    const attempt = (index) => {
      const child = childProcess.execFile(candidates[index], args,
        { timeout: HELPER_TIMEOUT_MS, maxBuffer: 1024 * 1024, windowsHide: true },
        (error, stdout, stderr) => {
          if (error && (error.code === 'ENOENT' || error.code === 'EACCES')) {
            if (index + 1 < candidates.length) {
              attempt(index + 1);
              return;
            }
            if (!explicit) {
              helperMissingUntil = Date.now() + NO_MATCH_TTL_MS;
            }
            reject(new HelperMissingError(missingMessage(explicit)));
            return;
          }
          if (error && typeof error.code !== 'number') {
            reject(new Error('iotspot: iotspot-helper ' + args.join(' ') + ' failed: ' +
                             (error.killed ? 'timed out' : error.message)));
            return;
          }
          resolve({ status: error ? error.code : 0, stdout: String(stdout), stderr: String(stderr) });
        });
      child.stdin.on('error', () => {}); // a helper that exits early must not crash Insomnia
      child.stdin.end(input || '');
    };
    attempt(0);
  });
}

function missingMessage(explicit) {
  return 'iotspot: ' + (explicit
    ? 'iotspot_helper_path is ' + explicit + ', which cannot be run'
    : 'iotspot-helper is not installed (not on PATH, in ~/.local/bin or /usr/local/bin); ' +
      'install it or set iotspot_helper_path in the environment');
}

// The helper's own message (its last line on stderr: "iotspot-helper: <what>; <what to do>").
function helperFailure(result) {
  const lines = result.stderr.trim().split('\n').filter(Boolean);
  return new Error('iotspot: ' + (lines.length ? lines[lines.length - 1]
                                               : 'iotspot-helper exited with status ' + result.status));
}

// The token of `profile` ('' = the helper's default), from the cache or the helper.
async function tokenForProfile(profile, helperPath) {
  const key = 'profile:' + profile;
  const hit = cached(key);
  if (hit) {
    return hit.token;
  }
  const started = Date.now();
  const result = await runHelper(helperPath, (profile ? ['--profile', profile] : [])
    .concat(['token', '--json']), '');
  if (result.status !== 0) {
    throw helperFailure(result);
  }
  let answer;
  try {
    answer = JSON.parse(result.stdout);
  } catch (e) {
    answer = null;
  }
  if (!answer || typeof answer.access_token !== 'string' || !answer.access_token ||
      typeof answer.expires_in !== 'number') {
    throw new Error('iotspot: iotspot-helper token --json printed no token');
  }
  remember(key, answer.access_token, started + answer.expires_in * 1000 - REUSE_MARGIN_MS);
  dropWith.set(answer.access_token, {
    args: (profile ? ['--profile', profile] : []).concat(['logout']), input: '', helperPath
  });
  return answer.access_token;
}

// The token for a request to `url` (a WHATWG URL) when a profile's api_url matches, else null.
async function tokenForUrl(url, helperPath) {
  const protocol = url.protocol.replace(/:$/, '');
  const requestPath = url.pathname.replace(/^\/+/, '');
  const key = 'url:' + protocol + '//' + url.host + '/' + requestPath;
  const hit = cached(key);
  if (hit) {
    return hit.token;
  }
  if (/[\r\n\0]/.test(url.host + requestPath)) {
    return null;
  }
  const input = 'protocol=' + protocol + '\nhost=' + url.host + '\n' +
    (requestPath ? 'path=' + requestPath + '\n' : '') + '\n';
  const result = await runHelper(helperPath, ['get'], input);
  if (result.status !== 0) {
    throw helperFailure(result);
  }
  const answer = {};
  for (const line of result.stdout.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) {
      answer[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  if (!answer.password) {
    remember(key, null, Date.now() + NO_MATCH_TTL_MS);
    return null;
  }
  const expiry = Number(answer.password_expiry_utc) * 1000;
  remember(key, answer.password,
           Number.isFinite(expiry) ? expiry - REUSE_MARGIN_MS : Date.now() + NO_MATCH_TTL_MS);
  dropWith.set(answer.password, { args: ['erase'], input: input, helperPath });
  return answer.password;
}

function environmentValue(request, name) {
  try {
    const value = request.getEnvironmentVariable(name);
    return value === undefined || value === null ? '' : String(value).trim();
  } catch (e) {
    return '';
  }
}

function hasOwnAuthorization(request) {
  if (request.hasHeader('Authorization')) {
    return true;
  }
  const auth = typeof request.getAuthentication === 'function' ? request.getAuthentication() : null;
  return Boolean(auth && auth.type && auth.type !== 'none' && !auth.disabled);
}

async function iotspotRequestHook(context) {
  const request = context.request;
  let url;
  try {
    url = new URL(request.getUrl());
  } catch (e) {
    return;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || hasOwnAuthorization(request)) {
    return;
  }
  const profile = environmentValue(request, 'iotspot_profile');
  const helperPath = environmentValue(request, 'iotspot_helper_path');
  const plainToRemote = url.protocol === 'http:' && !isLoopback(url.hostname);

  if (plainToRemote) {
    if (profile || looksLikeIotspot(url.hostname)) {
      throw new Error('iotspot: refusing to send the token over plain http to ' + url.host +
                      '; use https://');
    }
    return;
  }
  if (profile) {
    request.setHeader('Authorization', 'Bearer ' + await tokenForProfile(profile, helperPath));
    return;
  }
  let token;
  try {
    token = await tokenForUrl(url, helperPath);
  } catch (error) {
    if (error instanceof HelperMissingError && !looksLikeIotspot(url.hostname)) {
      return; // not an iotspot request: a missing helper is none of its business
    }
    throw error;
  }
  if (token) {
    request.setHeader('Authorization', 'Bearer ' + token);
  } else if (looksLikeIotspot(url.hostname)) {
    throw new Error('iotspot: no iotspot-helper profile has an api_url matching ' + url.origin +
                    '; run `iotspot-helper configure --api-url ' + url.origin + ' ...`, or set ' +
                    'iotspot_profile in the environment');
  }
}

// On a 401 to a request that carried a token of ours: forget it here and in the helper.
async function iotspotResponseHook(context) {
  if (!context.response || context.response.getStatusCode() !== 401 || !context.request) {
    return;
  }
  const sent = context.request.getHeader('Authorization') || '';
  const token = sent.startsWith('Bearer ') ? sent.slice('Bearer '.length) : '';
  const how = dropWith.get(token);
  if (!how) {
    return;
  }
  dropWith.delete(token);
  for (const [key, entry] of cache) {
    if (entry.token === token) {
      cache.delete(key);
    }
  }
  try {
    await runHelper(how.helperPath, how.args, how.input);
  } catch (error) {
    // The plugin's own copy is gone; the helper's expires in time. Never fail the response.
  }
}

module.exports.requestHooks = [iotspotRequestHook];
module.exports.responseHooks = [iotspotResponseHook];

module.exports.templateTags = [{
  name: 'iotspotToken',
  displayName: 'iotspot token',
  description: 'a fresh iotspot API access token from iotspot-helper',
  args: [{
    displayName: 'Profile (empty: the environment\'s iotspot_profile, else the helper\'s default)',
    type: 'string',
    defaultValue: '',
    placeholder: 'default'
  }],
  liveDisplayName: (args) => 'iotspot token' +
    (args && args[0] && args[0].value ? ' (' + args[0].value + ')' : ''),
  disablePreview: () => true, // the token is not shown in the editor
  async run(context, profileArgument) {
    const variables = (context && context.context) || {};
    const profile = String(profileArgument || variables.iotspot_profile || '').trim();
    return tokenForProfile(profile, String(variables.iotspot_helper_path || '').trim());
  }
}];
