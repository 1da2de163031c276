// The transformer demo's data: English-like sentences from a small seeded grammar, generated in the
// page (nothing is downloaded), as characters. A model that has learnt the spelling and the
// grammar predicts most characters; what is left is the grammar's own word choices.
import { SeededRandom } from '../train/model';

const WORDS = {
  det: ['the', 'a', 'one', 'every', 'that'],
  adj: ['small', 'red', 'quiet', 'old', 'bright', 'clever', 'heavy', 'green'],
  noun: ['cat', 'dog', 'bird', 'child', 'river', 'stone', 'teacher', 'garden', 'window', 'ship'],
  verb: ['sees', 'follows', 'finds', 'carries', 'likes', 'watches', 'draws', 'meets'],
  intransitive: ['sleeps', 'sings', 'waits', 'runs', 'falls', 'shines'],
  prep: ['near', 'under', 'behind', 'over', 'beside'],
  adverb: ['slowly', 'today', 'again', 'often', 'quickly'],
};

/** Every character the grammar writes, in a fixed order: the model's vocabulary. */
export const VOCABULARY = [...new Set(`${Object.values(WORDS).flat().join(' ')} .\n`)].sort().join('');
const INDEX = new Map([...VOCABULARY].map((c, i) => [c, i]));

function pick<T>(random: SeededRandom, list: readonly T[]): T {
  return list[Math.floor(random.uniform() * list.length) % list.length];
}

function nounPhrase(random: SeededRandom): string {
  const adjective = random.uniform() < 0.5 ? `${pick(random, WORDS.adj)} ` : '';
  return `${pick(random, WORDS.det)} ${adjective}${pick(random, WORDS.noun)}`;
}

function sentence(random: SeededRandom): string {
  const subject = nounPhrase(random);
  const roll = random.uniform();
  const predicate =
    roll < 0.45
      ? `${pick(random, WORDS.verb)} ${nounPhrase(random)}`
      : roll < 0.75
        ? `${pick(random, WORDS.intransitive)} ${pick(random, WORDS.prep)} ${nounPhrase(random)}`
        : `${pick(random, WORDS.intransitive)} ${pick(random, WORDS.adverb)}`;
  return `${subject} ${predicate}.`;
}

/** `length` characters of the grammar's text, the same for the same seed. */
export function corpusText(length: number, seed = 5): string {
  const random = new SeededRandom(seed);
  let text = '';
  while (text.length < length) text += sentence(random) + (random.uniform() < 0.2 ? '\n' : ' ');
  return text.slice(0, length);
}

export function encode(text: string): Int32Array {
  return Int32Array.from(text, (c) => {
    const index = INDEX.get(c);
    if (index === undefined) throw new Error(`character ${JSON.stringify(c)} is not in the vocabulary`);
    return index;
  });
}

export function decode(tokens: ArrayLike<number>): string {
  return Array.from(tokens, (t) => VOCABULARY[t] ?? '?').join('');
}

/** One batch: `batch` windows of `context` tokens and, for each position, the token after it. */
export interface Batch {
  inputs: Int32Array;
  targets: Int32Array;
  /** A corrupted batch: one character repeated, a stand-in for the bad batches behind loss spikes. */
  corrupted: boolean;
}

/** The character a corrupted batch repeats. */
const CORRUPT_CHARACTER = '.';

/**
 * The batches of a training session: step t's batch is the same for every run and every page
 * load. Every `corruptEvery`-th batch (0: none) is corrupted: its windows hold one character
 * repeated, so every position pushes the model the same way and the gradient's norm jumps.
 */
export class Batches {
  private readonly tokens: Int32Array;

  constructor(
    readonly batch: number,
    readonly context: number,
    readonly corruptEvery = 0,
    private readonly seed = 17,
  ) {
    this.tokens = encode(corpusText(200_000));
  }

  corrupted(step: number): boolean {
    return this.corruptEvery > 0 && step % this.corruptEvery === this.corruptEvery - 1;
  }

  at(step: number): Batch {
    const inputs = new Int32Array(this.batch * this.context);
    const targets = new Int32Array(this.batch * this.context);
    if (this.corrupted(step)) {
      const [token] = encode(CORRUPT_CHARACTER);
      return { inputs: inputs.fill(token), targets: targets.fill(token), corrupted: true };
    }
    const random = new SeededRandom(this.seed + step * 7919);
    random.uniform(); // the generator's first value grows with the seed: skip it
    for (let b = 0; b < this.batch; b++) {
      const start = Math.floor(random.uniform() * (this.tokens.length - this.context - 1));
      inputs.set(this.tokens.subarray(start, start + this.context), b * this.context);
      targets.set(this.tokens.subarray(start + 1, start + this.context + 1), b * this.context);
    }
    return { inputs, targets, corrupted: false };
  }
}
