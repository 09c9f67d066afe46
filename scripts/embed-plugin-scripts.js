#!/usr/bin/env node
// Copies the Postman and Bruno scripts (plugins/postman/pre-request.js and post-response.js,
// plugins/bruno/pre-request.js and post-response.js) into the sample collections that embed
// them (Postman's collection JSON, Bruno's collection.bru). Run it after editing one;
// tests/e2e/test_postman.py and test_bruno.py fail until the copies match. Needs
// build-node/node_modules (scripts/bootstrap.sh --test) for Bruno's own .bru writer.
'use strict';

const fs = require('fs');
const path = require('path');

const repo = path.resolve(__dirname, '..');
const plugins = path.join(repo, 'plugins');

function script(file) {
  return fs.readFileSync(file, 'utf8').replace(/\n$/, '');
}

// Postman: the collection-level prerequest and test (post-response) events, one array element
// per line.
const postmanFile = path.join(plugins, 'postman', 'iotspot.postman_collection.json');
const collection = JSON.parse(fs.readFileSync(postmanFile, 'utf8'));
for (const [listen, file] of [['prerequest', 'pre-request.js'], ['test', 'post-response.js']]) {
  let event = collection.event.find((e) => e.listen === listen);
  if (!event) {
    event = { listen: listen, script: { type: 'text/javascript', exec: [] } };
    collection.event.push(event);
  }
  event.script.exec = script(path.join(plugins, 'postman', file)).split('\n');
}
fs.writeFileSync(postmanFile, JSON.stringify(collection, null, 2) + '\n');

// Bruno: the script:pre-request block of collection.bru, written by Bruno's own library.
const lang = require(path.join(repo, 'build-node', 'node_modules', '@usebruno', 'lang'));
const brunoFile = path.join(plugins, 'bruno', 'iotspot-collection', 'collection.bru');
const bru = lang.collectionBruToJson(fs.readFileSync(brunoFile, 'utf8'));
bru.script = Object.assign({}, bru.script,
                           { req: script(path.join(plugins, 'bruno', 'pre-request.js')),
                             res: script(path.join(plugins, 'bruno', 'post-response.js')) });
fs.writeFileSync(brunoFile, lang.jsonToCollectionBru(bru) + '\n');

console.log('embedded the pre-request scripts into ' + path.relative(repo, postmanFile) +
            ' and ' + path.relative(repo, brunoFile));
