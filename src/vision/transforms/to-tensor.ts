/**
 * ToTensor: a raw HWC uint8 image (0..255) → a CHW float32 tensor in [0, 1], as torchvision's
 * ToTensor. stride's image datasets already yield such tensors, so a float32 tensor passes through
 * unchanged and torchvision-style pipelines (`Compose([ToTensor(), Normalize(...)])`) work as written.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Transform } from '../../data/transform.js';
import { isRawImage, rawToTensor, type RawImage } from '../image.js';

export class ToTensor implements Transform<RawImage | Tensor, Tensor> {
  apply(input: RawImage | Tensor): Tensor {
    if (input instanceof Tensor) {
      if (input.dtype !== 'float32') {
        throw new Error(
          `ToTensor: an int32 tensor is ambiguous; pass a raw HWC uint8 image or a float tensor`,
        );
      }
      return input;
    }
    if (!isRawImage(input)) {
      throw new Error(
        'ToTensor: expected a raw image { data: Uint8Array (HWC), width, height, channels } or a Tensor',
      );
    }
    return rawToTensor(input, 'ToTensor');
  }

  toString(): string {
    return 'ToTensor()';
  }
}
