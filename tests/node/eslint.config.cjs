// eslint's configuration for the JavaScript the project ships and tests with; scripts/lint.sh
// runs it from the repository root (so the patterns below are relative to the root), with
// the modules from build-node/ (scripts/bootstrap.sh). eslint's recommended rules, with the
// globals each runtime really provides, so that a misspelt name is an error.
const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  js.configs.recommended,
  {
    // A caught error that is not looked at is how these scripts say "any failure": the
    // message they print is their own (eslint 8's default; 9 flags it).
    rules: { 'no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
  {
    // Postman's and newman's script sandbox: pm, console and URL, no Node.js.
    files: ['plugins/postman/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { pm: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  {
    // Bruno's script runtime: bru, req and res, console and URL, and require(). Bruno runs
    // the script inside an async function, so a top-level await is valid: 'module' is how
    // eslint accepts one.
    files: ['plugins/bruno/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        bru: 'readonly', req: 'readonly', res: 'readonly',
        console: 'readonly', URL: 'readonly', require: 'readonly',
      },
    },
  },
  {
    // Node.js modules: the Insomnia plugin, the test driver, the scripts.
    files: ['plugins/insomnia/**/*.js', 'tests/e2e/support/*.js', 'scripts/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
];
