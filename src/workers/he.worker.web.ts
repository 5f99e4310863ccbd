/**
 * Entry of the HE Web Worker (a module worker) of users and the widget: SEAL, and nothing
 * else — no GPU runtime is bundled into it.
 */
import { serveHeWorker } from './he-worker-main.web.ts'

serveHeWorker()
