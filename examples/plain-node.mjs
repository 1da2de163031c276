import { createClipper } from 'gradclip';
const clipper = await createClipper();
const grads = clipper.gradients([new Float32Array([3, 0]), new Float32Array([4])]);
console.log(await clipper.clipGradNorm(grads, 1).read()); // 5; the arrays are now scaled to norm 1
