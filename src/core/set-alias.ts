// Views that are also a set: clipPerExample returns its sums as a list of views (to bind, read or
// hand to gradients()) that the clipper also accepts directly wherever it takes a GradSet.
import type { GradSet } from './types';

const aliases = new WeakMap<object, GradSet>();

/** A copy of `views` carrying `set`'s properties, which the clipper resolves to `set`. */
export function viewsAsSet<V>(views: readonly V[], set: GradSet): V[] & GradSet {
  const list = Object.defineProperties([...views], {
    viewCount: { get: () => set.viewCount },
    elementCount: { get: () => set.elementCount },
    dispatchGroups: { get: () => set.dispatchGroups },
    destroyed: { get: () => set.destroyed },
  }) as V[] & GradSet;
  aliases.set(list, set);
  return list;
}

/** The set a value stands for: itself, or the set behind a views-as-set list. */
export function resolveSet(set: GradSet): GradSet {
  return (typeof set === 'object' && set !== null && aliases.get(set)) || set;
}
