// A list of objects held weakly, to reach every live one at teardown (a clipper's sets) without
// keeping dropped ones alive. Collected entries are pruned as the list grows.
export class WeakList<T extends object> {
  private refs: WeakRef<T>[] = [];
  private pruneAt = 64;

  add(value: T): void {
    this.refs.push(new WeakRef(value));
    if (this.refs.length >= this.pruneAt) {
      this.refs = this.refs.filter((r) => r.deref() !== undefined);
      this.pruneAt = Math.max(64, 2 * this.refs.length);
    }
  }

  /** The entries still alive. */
  values(): T[] {
    return this.refs.map((r) => r.deref()).filter((v): v is T => v !== undefined);
  }

  clear(): void {
    this.refs = [];
  }
}

/** A small integer per object, held weakly: a cache key that does not keep its object alive. */
export class ObjectIds {
  private readonly ids = new WeakMap<object, number>();
  private next = 0;

  id(value: object): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(value, id);
    }
    return id;
  }
}
