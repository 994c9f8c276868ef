// The ONNX Runtime side of bench-cnn: inference of an exported model with onnxruntime-node.
//
//   node bench/cnn_ort.js MODEL.onnx INPUT.f32 THREADS BATCH REPS [LOGITS.f32]
//
// INPUT: raw float32 [B, 3, 224, 224] (B >= BATCH). Runs the CPU execution provider with
// intraOpNumThreads THREADS, interOpNumThreads 1, sequential execution and every graph
// optimisation, and prints one line `name seconds` per workload, the median of REPS runs after
// one warm-up: forward_b1 and forward_bBATCH on the first images of INPUT. With LOGITS (raw
// float32 [classes], PyTorch's logits of the first image), also `maxdiff D`: max |ort - torch| /
// max |torch| at batch 1. onnxruntime-node comes from bench/node_modules (tools/setup.sh:
// `npm install --ignore-scripts` in bench/); without it this prints "onnxruntime: not installed"
// on stderr and exits with status 3.
'use strict';
const fs = require('fs');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  process.stderr.write('onnxruntime: not installed (' + e.code + ')\n');
  process.exit(3);
}

function readFloats(path) {
  const b = fs.readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

async function medianTime(fn, reps) {
  await fn(); // warm-up
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}

async function main() {
  const [model, inputPath, threadsS, batchS, repsS, logitsPath] = process.argv.slice(2);
  if (!repsS) {
    process.stderr.write('usage: node cnn_ort.js MODEL.onnx INPUT.f32 THREADS BATCH REPS [LOGITS.f32]\n');
    process.exit(2);
  }
  const threads = Number(threadsS), batch = Number(batchS), reps = Number(repsS);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const x = readFloats(inputPath);
  const image = 3 * 224 * 224;
  if (x.length < batch * image) throw new Error(inputPath + ' holds fewer than ' + batch + ' images');
  const input = (n) => new ort.Tensor('float32', x.slice(0, n * image), [n, 3, 224, 224]);
  const x1 = input(1), xb = input(batch);
  const run = (t) => session.run({ input: t });

  console.log('forward_b1 ' + await medianTime(() => run(x1), reps));
  if (batch > 1) console.log('forward_b' + batch + ' ' + await medianTime(() => run(xb), reps));
  if (logitsPath) {
    const ref = readFloats(logitsPath), y = (await run(x1)).logits.data;
    let diff = 0, scale = 0;
    for (let i = 0; i < ref.length; i++) {
      diff = Math.max(diff, Math.abs(y[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    console.log('maxdiff ' + diff / scale);
  }
}

main().catch((e) => {
  process.stderr.write('cnn_ort: ' + e.message + '\n');
  process.exit(1);
});
