/**
 * Entry of a donor's HE miner worker (a module worker): the HE service with a GPU runtime.
 * onnxruntime-web (WebGPU EP) is imported only when the donor asks this worker to use its
 * GPU, so a CPU-only donor never downloads it; the self-test decides whether it computes.
 */
import { serveHeWorker } from './he-worker-main.web.ts'

serveHeWorker(async () => await (await import('../gpu/mac-runner.web.ts')).startWebGpuMacEngine())
