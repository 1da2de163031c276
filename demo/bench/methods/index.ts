// Each way of clipping the benchmark compares, by name (see method.ts for the interface).
import type { MethodName } from '../config';
import { CopyMethod } from './copy';
import { CpuMethod, GradclipMethod } from './gradclip';
import type { CaseData, Method } from './method';
import { NaiveMethod } from './naive';
import { TfjsMethod } from './tfjs';

export { CopyMethod } from './copy';
export { GradclipMethod } from './gradclip';
export { readBuffer, type CaseData, type Expectation, type Method } from './method';

export function createMethod(name: MethodName, data: CaseData): Method {
  switch (name) {
    case 'gradclip-arena':
      return new GradclipMethod(name, data, 'arena', false);
    case 'gradclip-arena-read':
      return new GradclipMethod(name, data, 'arena', true);
    case 'gradclip-separate':
      return new GradclipMethod(name, data, 'separate', false);
    case 'tfjs':
      return new TfjsMethod(data);
    case 'naive':
      return new NaiveMethod(data);
    case 'cpu':
      return new CpuMethod(data);
    case 'copy-kernel':
    case 'copy-buffer':
      return new CopyMethod(name, data);
  }
}
