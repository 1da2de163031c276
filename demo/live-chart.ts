// A live uPlot chart over steps for the demo pages: a figure in #charts, one column per series,
// filled as records are read back and drawn again.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A live uPlot chart over steps: one column per series, filled as records arrive. */
export class LiveChart {
  private readonly columns: Array<Array<number | null>>;
  private readonly plot: uPlot;
  private length = 0;

  /** `log`: a log-10 y axis, or 2 for a log-2 axis labelled 2^k. */
  constructor(title: string, yLabel: string, series: uPlot.Series[], log: boolean | 2) {
    const figure = document.createElement('figure');
    figure.innerHTML = `<figcaption>${title}</figcaption>`;
    document.querySelector('#charts')!.append(figure);
    this.columns = series.map(() => []);
    this.plot = new uPlot(
      {
        width: 600,
        height: 300,
        scales: { x: { time: false }, y: log ? { distr: 3, log: log === 2 ? 2 : 10 } : {} },
        axes: [
          { label: 'step' },
          {
            label: yLabel,
            size: 70,
            ...(log === 2
              ? {
                  values: (_: uPlot, ticks: number[]) =>
                    ticks.map((v) => (v > 0 ? `2^${Math.round(Math.log2(v))}` : '')),
                }
              : {}),
          },
        ],
        series: [{ label: 'step' }, ...series],
      },
      [[], ...this.columns.map(() => [])] as uPlot.AlignedData,
      figure,
    );
  }

  /** Sets series `index` at `step` (null: a gap). */
  set(index: number, step: number, value: number | null): void {
    this.length = Math.max(this.length, step + 1);
    const column = this.columns[index];
    while (column.length < step) column.push(null);
    column[step] = value;
  }

  draw(): void {
    const steps = Array.from({ length: this.length }, (_, i) => i);
    const padded = this.columns.map((c) => Array.from({ length: this.length }, (_, i) => c[i] ?? null));
    this.plot.setData([steps, ...padded] as uPlot.AlignedData);
  }
}
