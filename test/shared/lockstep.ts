// The lockstep measure of the plan tests: lanes run in SIMD groups (4 on SwiftShader, a warp of 32
// on a GPU), and a group runs each step of its lanes' lists (an AGC row, a segment piece) as long
// as its costliest lane at that step.

/**
 * The time groups of `width` neighbouring lanes take over the lanes' own time. `laneSteps[l]` is
 * lane l's cost at each of its steps; a lane past its last step costs nothing but still waits.
 */
export function lockstepCost(laneSteps: readonly (readonly number[])[], width: number): number {
  let lockstep = 0;
  let own = 0;
  for (let start = 0; start < laneSteps.length; start += width) {
    const group = laneSteps.slice(start, start + width);
    const most = Math.max(...group.map((steps) => steps.length));
    for (let step = 0; step < most; step++) {
      lockstep += group.length * Math.max(...group.map((steps) => steps[step] ?? 0));
      own += group.reduce((n, steps) => n + (steps[step] ?? 0), 0);
    }
  }
  return lockstep / own;
}
