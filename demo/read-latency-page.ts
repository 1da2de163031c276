// The read-latency page: a Measure button and a table. demo/read-latency/measure.ts measures;
// this module only presents. The CLI (demo/read-latency/cli.ts) drives it through
// `window.gradclipReadLatency.run`.
import { measureReadLatency, type LatencyResults } from './read-latency/measure';
import { pageDevice } from './page-device';

declare global {
  interface Window {
    gradclipReadLatency: { run(rounds?: number): Promise<LatencyResults> };
  }
}

const table = document.querySelector('#lines') as HTMLTableElement;
const button = document.querySelector('#start') as HTMLButtonElement;
const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);

function show(results: LatencyResults) {
  const head = '<tr><th>line</th><th>one round</th><th>median ms</th><th>p10–p90</th><th>per unit</th></tr>';
  const rows = results.lines.map(
    (l) =>
      `<tr><td>${l.name}</td><td>${l.what}</td><td>${ms(l.median)}</td><td>${ms(l.p10)}–${ms(l.p90)}</td><td>${l.perUnit ? `${ms(l.perUnit.median)} / ${l.perUnit.unit}` : ''}</td></tr>`,
  );
  table.innerHTML = head + rows.join('');
}

async function run(rounds?: number): Promise<LatencyResults> {
  button.disabled = true;
  try {
    const device = await pageDevice();
    const adapter = document.querySelector('#adapter')?.textContent ?? '';
    const results = await measureReadLatency(device, adapter, rounds);
    show(results);
    return results;
  } finally {
    button.disabled = false;
  }
}

button.addEventListener('click', () => void run());
window.gradclipReadLatency = { run };
