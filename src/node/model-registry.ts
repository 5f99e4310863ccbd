/**
 * The models `npm run fetch-model -- NAME` knows: where each file is published, its size
 * and SHA-256, and its licence.
 *
 * Which pins were checked here: this machine has no internet, so only stories260K's files
 * were hashed here (shared/models/stories260K/SHA256SUMS). The other pins are the values
 * that independent public projects pin for the same published files (stories15M/42M/110M
 * and tokenizer.bin agree across several; SmolLM2's Q8_0 file is pinned at a fixed
 * repository revision by one), and are marked `verifiedHere: false`. A wrong pin cannot
 * install a wrong file — the download is refused and deleted — it can only make a good
 * file fail. To check a pin without downloading the file, read Hugging Face's Git LFS
 * pointer, which states the file's SHA-256 and size:
 *   curl -sL https://huggingface.co/karpathy/tinyllamas/raw/main/stories15M.bin
 *   → version https://git-lfs.github.com/spec/v1 / oid sha256:<hash> / size <bytes>
 * (for GitHub's tokenizer.bin, download it and run `sha256sum`).
 */

/** One published file. */
export interface RegistryFile {
  /** File name on disk. */
  readonly file: string
  readonly url: string
  readonly sha256: string
  readonly bytes: number
  /** True when the pin was computed here from the real file; false when taken from public pins (see above). */
  readonly verifiedHere: boolean
}

/** One named model. */
export interface RegistryModel {
  readonly name: string
  readonly description: string
  /** 'llama2c': a checkpoint plus tokenizer.bin; 'gguf': one file that carries its tokenizer. */
  readonly format: 'llama2c' | 'gguf'
  /** The licence(s) of the files, as their publishers state them. */
  readonly licence: string
  readonly files: readonly RegistryFile[]
}

const TINYLLAMAS = 'https://huggingface.co/karpathy/tinyllamas/resolve/main'
/** tokenizer.bin: Llama 2's 32,000-piece SentencePiece vocabulary, exported by llama2.c. */
const LLAMA2_TOKENIZER: RegistryFile = {
  file: 'tokenizer.bin',
  url: 'https://github.com/karpathy/llama2.c/raw/master/tokenizer.bin',
  sha256: '50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361',
  bytes: 433_869,
  verifiedHere: false
}
const STORIES_LICENCE = 'MIT (karpathy/tinyllamas); tokenizer.bin is Meta\'s Llama 2 vocabulary as exported by karpathy/llama2.c (MIT repository; the vocabulary itself comes with the Llama 2 Community License)'

/** Every model `fetch-model` can download, by name. */
export const MODEL_REGISTRY: readonly RegistryModel[] = Object.freeze([
  {
    name: 'stories260K',
    description: 'llama2.c TinyStories 260K (64-dim, 5 layers, 512-token vocabulary): the default model, 1 MB',
    format: 'llama2c',
    licence: 'MIT (karpathy/tinyllamas)',
    files: [
      { file: 'stories260K.bin', url: `${TINYLLAMAS}/stories260K/stories260K.bin`, sha256: 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696', bytes: 1_056_540, verifiedHere: true },
      { file: 'tok512.bin', url: `${TINYLLAMAS}/stories260K/tok512.bin`, sha256: '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312', bytes: 6_227, verifiedHere: true }
    ]
  },
  {
    name: 'stories15M',
    description: 'llama2.c TinyStories 15M (288-dim, 6 layers, Llama 2 vocabulary), 61 MB',
    format: 'llama2c',
    licence: STORIES_LICENCE,
    files: [{ file: 'stories15M.bin', url: `${TINYLLAMAS}/stories15M.bin`, sha256: 'cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a', bytes: 60_816_028, verifiedHere: false }, LLAMA2_TOKENIZER]
  },
  {
    name: 'stories42M',
    description: 'llama2.c TinyStories 42M (512-dim, 8 layers, Llama 2 vocabulary), 167 MB',
    format: 'llama2c',
    licence: STORIES_LICENCE,
    files: [{ file: 'stories42M.bin', url: `${TINYLLAMAS}/stories42M.bin`, sha256: '9f65a1000e17d0bc167dd6332e0ce5119a0222a3d920cead5bce413bfab2ee7b', bytes: 167_020_572, verifiedHere: false }, LLAMA2_TOKENIZER]
  },
  {
    name: 'stories110M',
    description: 'llama2.c TinyStories 110M (768-dim, 12 layers, Llama 2 vocabulary), 438 MB',
    format: 'llama2c',
    licence: STORIES_LICENCE,
    files: [{ file: 'stories110M.bin', url: `${TINYLLAMAS}/stories110M.bin`, sha256: '515267168726a1ed1317a64a408492e6af3b67c1f71c5bd98c01d9d721803a24', bytes: 438_381_596, verifiedHere: false }, LLAMA2_TOKENIZER]
  },
  {
    name: 'smollm2-135m-instruct',
    description: 'SmolLM2-135M-Instruct, GGUF Q8_0 (bartowski/SmolLM2-135M-Instruct-GGUF at a fixed revision): a chat model with its template, 145 MB',
    format: 'gguf',
    licence: 'Apache-2.0 (HuggingFaceTB/SmolLM2-135M-Instruct; the GGUF conversion is under the same licence)',
    files: [{
      file: 'SmolLM2-135M-Instruct-Q8_0.gguf',
      url: 'https://huggingface.co/bartowski/SmolLM2-135M-Instruct-GGUF/resolve/09816acd5d99df7be770d85ea30822623dab342c/SmolLM2-135M-Instruct-Q8_0.gguf',
      sha256: '5a1395716f7913741cc51d98581b9b1228d80987a9f7d3664106742eb06bba83',
      bytes: 144_811_360,
      verifiedHere: false
    }]
  }
] satisfies RegistryModel[])

/** The model called `name` (case-insensitive), or undefined. */
export function findModel (name: string, registry: readonly RegistryModel[] = MODEL_REGISTRY): RegistryModel | undefined {
  const n = name.toLowerCase()
  return registry.find(m => m.name.toLowerCase() === n)
}
