// Run by scripts/setup before anything else, with whatever `node` is on PATH: is it one of the LTS lines package.json's
// `engines` names ("^20.19.0 || ^22.13.0 || ^24.0.0 || ^26.0.0")? Prints one line and exits 1 when it is not, one
// warning line when its line is past its end of life, nothing otherwise. CommonJS and plain syntax, so that a Node
// far too old for the project still runs it and gets the sentence rather than a stack trace.
'use strict';
const { readFileSync } = require('fs');
const { join } = require('path');

// End of life of each LTS line (https://github.com/nodejs/release#release-schedule).
const END_OF_LIFE = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30', 26: '2029-04-30' };

const range = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).engines.node;
const lines = range.split('||').map((part) => part.trim().replace(/^\^/, '').split('.').map(Number));
const found = process.versions.node.split('.').map(Number);
const within = (line) => found[0] === line[0] && (found[1] > line[1] || (found[1] === line[1] && found[2] >= line[2]));
const name = (line) => (line[1] || line[2] ? `${line[0]}.${line[1]}${line[2] ? `.${line[2]}` : ''} or later` : String(line[0]));
const names = lines.map(name);
const list = `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
const newest = lines[lines.length - 1][0];
const today = new Date().toISOString().slice(0, 10);

if (!lines.some(within)) {
  console.log(`credit-pipeline needs Node ${list} (found ${process.version}): see docs/prerequisites.md`);
  process.exit(1);
}
if (END_OF_LIFE[found[0]] && END_OF_LIFE[found[0]] < today) {
  console.log(`warning: Node ${found[0]} reached its end of life on ${END_OF_LIFE[found[0]]}; credit-pipeline still runs on it, but prefer Node ${newest}, the newest LTS`);
}
