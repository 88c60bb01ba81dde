// Summary of a .heapprofile written by bench/alloc-sampler.mjs: allocated bytes by function, self
// and inclusive (a function on the stack twice, recursion, is counted twice inclusively).
import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const root = `${process.cwd()}/`;
const self = new Map();
const incl = new Map();
let total = 0;
const keyOf = (f) => `${f.functionName || '(anon)'} ${f.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(root, '')}:${f.lineNumber + 1}`;
function walk(n) {
  const key = keyOf(n.callFrame);
  total += n.selfSize;
  self.set(key, (self.get(key) || 0) + n.selfSize);
  let sum = n.selfSize;
  for (const c of n.children) sum += walk(c);
  incl.set(key, (incl.get(key) || 0) + sum);
  return sum;
}
walk(p.head);
const top = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
console.log('total sampled MB', (total / 1e6).toFixed(1));
console.log('--- self');
for (const [k, v] of top(self, 40)) console.log((100 * v / total).toFixed(1).padStart(5), '%', k);
console.log('--- inclusive (recursive frames double count)');
for (const [k, v] of top(incl, 60)) console.log((100 * v / total).toFixed(1).padStart(5), '%', k);
