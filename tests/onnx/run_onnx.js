// Runs an ONNX model in ONNX Runtime (CPU) on one input and writes its output, for
// tests/test_onnx.cpp:
//
//   node tests/onnx/run_onnx.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32
//
// INPUT.f32 and OUTPUT.f32 are raw little-endian float32 arrays (the output in the model's
// output shape, which is printed). The model's input is "input", its output "logits".
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inputPath, shapeText, outputPath] = process.argv.slice(2);
  if (!outputPath) throw new Error('usage: run_onnx.js MODEL.onnx INPUT.f32 N,C,H,W OUTPUT.f32');
  const shape = shapeText.split(',').map(Number);
  const bytes = fs.readFileSync(inputPath);
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const session = await ort.InferenceSession.create(modelPath, {intraOpNumThreads: 1});
  const result = await session.run({input: new ort.Tensor('float32', Float32Array.from(values), shape)});
  const logits = result.logits;
  fs.writeFileSync(outputPath, Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
  console.log('logits ' + logits.dims.join(','));
}

main().catch((e) => {
  console.error('run_onnx: ' + e.message);
  process.exit(1);
});
