// The course's memory network in TensorFlow.js's layers API, a port of
// Keras with Keras's defaults (Embedding uniform +-0.05, LSTM glorot /
// orthogonal / forget bias 1 / hard-sigmoid gates, Dense glorot), trained as
// the course does (RMSprop 0.001, batch 32, test set checked per epoch): a
// third implementation beside nnc and examples/qa/memnet_torch.py, for
// docs/qa.md's accuracy comparison. No part of the build or the tests.
//
//   npm install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
//   node examples/qa/memnet_tfjs.js [--epochs=120] [--every=5] [--rec=sigmoid]
//
// About 30 s an epoch on one core of the 2-core machine (wasm backend).
const tf = require('@tensorflow/tfjs');
const fs = require('fs');
const args = Object.fromEntries(process.argv.slice(2).map(a => a.replace(/^--/, '').split('=')));
const backend = args.backend || 'wasm';
const epochs = +(args.epochs || 120), every = +(args.every || 5), lstmAct = args.rec || 'hardSigmoid';
async function main() {
  if (backend === 'wasm') {
    require('@tensorflow/tfjs-backend-wasm');
    // The wasm backend lacks the Embedding gradient's kernel: a plain JS one.
    tf.registerKernel({kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: ({inputs, backend, attrs}) => {
      const {x, segmentIds} = inputs, n = attrs.numSegments;
      const xv = backend.readSync(x.dataId), ids = backend.readSync(segmentIds.dataId);
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const out = new Float32Array(n * inner);
      for (let i = 0; i < ids.length; i++) { const o = ids[i] * inner, r = i * inner; for (let j = 0; j < inner; j++) out[o + j] += xv[r + j]; }
      return backend.makeOutput([n].concat(x.shape.slice(1)), 'float32', null, out);
    }});
  }
  await tf.setBackend(backend); await tf.ready();
  const load = f => fs.readFileSync(require('path').join(__dirname, 'data', f), 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l));
  const train = load('train_qa.jsonl'), test = load('test_qa.jsonl');
  const vocab = new Set();
  for (const d of train.concat(test)) { for (const w of d.story.concat(d.question)) vocab.add(w.toLowerCase()); vocab.add(d.answer); }
  const words = [...vocab].sort(); const index = {}; words.forEach((w, i) => index[w] = i + 1);
  const V = words.length + 1;
  const S = Math.max(...train.concat(test).map(d => d.story.length)), Q = Math.max(...train.concat(test).map(d => d.question.length));
  const enc = data => {
    const s = new Float32Array(data.length * S), q = new Float32Array(data.length * Q), a = new Float32Array(data.length * V);
    data.forEach((d, i) => {
      d.story.forEach((w, j) => s[i * S + S - d.story.length + j] = index[w.toLowerCase()]);
      d.question.forEach((w, j) => q[i * Q + Q - d.question.length + j] = index[w.toLowerCase()]);
      a[i * V + index[d.answer]] = 1;
    });
    return [tf.tensor2d(s, [data.length, S]), tf.tensor2d(q, [data.length, Q]), tf.tensor2d(a, [data.length, V])];
  };
  const [trs, trq, tra] = enc(train), [tes, teq, tea] = enc(test);
  const L = tf.layers;
  const story = tf.input({shape: [S]}), question = tf.input({shape: [Q]});
  const m = L.dropout({rate: 0.3}).apply(L.embedding({inputDim: V, outputDim: 64}).apply(story));
  const c = L.dropout({rate: 0.3}).apply(L.embedding({inputDim: V, outputDim: Q}).apply(story));
  const u = L.dropout({rate: 0.3}).apply(L.embedding({inputDim: V, outputDim: 64, inputLength: Q}).apply(question));
  let match = L.dot({axes: [2, 2]}).apply([m, u]);
  match = L.activation({activation: 'softmax'}).apply(match);
  let response = L.add().apply([match, c]);
  response = L.permute({dims: [2, 1]}).apply(response);
  let ans = L.concatenate().apply([response, u]);
  ans = L.lstm({units: 32, recurrentActivation: lstmAct, unitForgetBias: true}).apply(ans);
  ans = L.dropout({rate: 0.5}).apply(ans);
  ans = L.dense({units: V}).apply(ans);
  ans = L.activation({activation: 'softmax'}).apply(ans);
  const model = tf.model({inputs: [story, question], outputs: ans});
  // Keras 2.2's RMSprop: rho 0.9, epsilon 1e-7 outside the square root.
  class KerasRMSprop extends tf.Optimizer {
    constructor() { super(); this.ms = {}; }
    applyGradients(grads) {
      // tfjs passes a name -> gradient map or a list of {name, tensor}.
      const list = Array.isArray(grads) ? grads : Object.entries(grads).map(([name, tensor]) => ({name, tensor}));
      tf.tidy(() => {
        for (const {name, tensor: g} of list) {
          const v = tf.engine().registeredVariables[name];
          if (!this.ms[name]) this.ms[name] = tf.keep(tf.variable(tf.zerosLike(v), false));
          const ms = this.ms[name];
          const nms = ms.mul(0.9).add(g.square().mul(0.1)); ms.assign(nms);
          v.assign(v.sub(g.mul(1e-3).div(nms.sqrt().add(1e-7))));
        }
      });
    }
    getConfig() { return {}; }
    static get className() { return 'KerasRMSprop'; }
  }
  model.compile({optimizer: new KerasRMSprop(), loss: 'categoricalCrossentropy', metrics: ['accuracy']});
  let t0 = Date.now();
  for (let e = 1; e <= epochs; e++) {
    const h = await model.fit([trs, trq], tra, {batchSize: 32, epochs: 1, shuffle: true, verbose: 0});
    if (e % every === 0 || e === 1) {
      const r = model.evaluate([tes, teq], tea, {batchSize: 500});
      const acc = (await r[1].data())[0];
      console.log(`epoch ${e}: ${((Date.now() - t0) / 1000).toFixed(0)} s, loss ${h.history.loss[0].toFixed(3)} acc ${h.history.acc[0].toFixed(3)} test ${acc.toFixed(3)}`);
    }
  }
}
main();
