/**
 * Bad inputs get errors that name the op and the argument, say what was expected and what came,
 * and for conv/pool sizes show the output-size arithmetic with the actual numbers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as F from '../src/ops/functional.js';
import { ones, tensor, zeros } from '../src/tensor/creation.js';

const int = (v: number[]) => tensor(v, { dtype: 'int32' });

test('conv2d: channel mismatch names both counts, the weight and the groups', () => {
  assert.throws(() => F.conv2d(zeros([1, 16, 8, 8]), zeros([64, 32, 2, 2])), {
    message:
      'conv2d: expected input with 32 channels (weight [64, 32, 2, 2], groups 1), got 16 channels (input [1, 16, 8, 8])',
  });
  assert.throws(
    () => F.conv1d(zeros([1, 6, 8]), zeros([4, 2, 3]), null, { groups: 2 }),
    /conv1d: expected input with 4 channels \(weight \[4, 2, 3\], groups 2\), got 6 channels/,
  );
});

test('conv: input and weight rank, groups, bias shape', () => {
  assert.throws(
    () => F.conv2d(zeros([8, 8]), zeros([4, 1, 3, 3])),
    /conv2d: expected a 3-D or 4-D input .*got 2-D input of shape \[8, 8\]/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3])),
    /conv2d: expected a 4-D weight .*got shape \[4, 1, 3\]/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 6, 8, 8]), zeros([4, 2, 3, 3]), null, { groups: 4 }),
    /conv2d: groups \(4\) must divide the input channels \(6\)/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 6, 8, 8]), zeros([4, 2, 3, 3]), null, { groups: 3 }),
    /conv2d: groups \(3\) must divide the output channels \(4\)/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), zeros([3])),
    /conv2d: expected bias of shape \[4\], got \[3\]/,
  );
});

test("conv: padding 'same' with stride > 1 is rejected with PyTorch's message", () => {
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), null, { stride: 2, padding: 'same' }),
    /conv2d: padding='same' is not supported for strided convolutions/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), null, { padding: 'full' as 'same' }),
    /conv2d: padding must be an int, a tuple, 'same' or 'valid', got 'full'/,
  );
});

test('conv: an input too small for the kernel shows the size arithmetic with its numbers', () => {
  assert.throws(() => F.conv2d(zeros([1, 1, 3, 3]), zeros([4, 1, 5, 5])), {
    message:
      'conv2d: output height would be ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1 = ⌊(3 + 0 − 4 − 1)/1⌋ + 1 = -1; the input (height 3) is too small for kernel 5',
  });
  assert.throws(
    () => F.conv2d(zeros([1, 1, 9, 2]), zeros([1, 1, 3, 3]), null, { stride: 2 }),
    /output width would be ⌊\(W \+ 2p − d\(k−1\) − 1\)\/s⌋ \+ 1 = ⌊\(2 \+ 0 − 2 − 1\)\/2⌋ \+ 1 = 0/,
  );
  assert.throws(
    () => F.conv1d(zeros([1, 1, 3]), zeros([4, 1, 3]), null, { dilation: 2 }),
    /conv1d: output length would be .* = -1; the input \(length 3\) is too small for kernel 3 with dilation 2/,
  );
});

test('conv: non-positive stride/dilation and negative padding', () => {
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), null, { stride: 0 }),
    /conv2d: stride must be positive integers, got 0/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), null, { dilation: [1, 0] }),
    /conv2d: dilation must be positive/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), null, { padding: -1 }),
    /conv2d: padding must be non-negative integers, got -1/,
  );
  assert.throws(
    () => F.conv2d(zeros([1, 1, 8, 8]), zeros([4, 1, 3, 3]), null, { stride: [1, 1, 1] }),
    /conv2d: stride must be an int or a tuple of 2 ints/,
  );
  assert.throws(
    () => F.convTranspose2d(zeros([1, 2, 3, 3]), zeros([2, 1, 3, 3]), null, { outputPadding: 1 }),
    /convTranspose2d: outputPadding must be smaller than either stride or dilation/,
  );
});

test('pooling: too small input, padding over half the kernel, bad kernelSize', () => {
  assert.throws(
    () => F.maxPool2d(zeros([1, 1, 1, 1]), { kernelSize: 2 }),
    /maxPool2d: output height would be ⌊.*⌋ \+ 1 = 0; the input \(height 1\) is too small for kernel 2/,
  );
  assert.throws(
    () => F.maxPool2d(zeros([1, 1, 4, 4]), { kernelSize: 2, padding: 2 }),
    /maxPool2d: padding should be at most half of the kernel size/,
  );
  assert.throws(
    () => F.avgPool2d(zeros([1, 1, 4, 4]), { kernelSize: 0 }),
    /avgPool2d: kernelSize must be positive integers, got 0/,
  );
  assert.throws(
    () => F.maxPool2d(zeros([4, 4]), { kernelSize: 2 }),
    /maxPool2d: expected a 3-D or 4-D input/,
  );
  assert.throws(
    () => F.adaptiveAvgPool2d(zeros([1, 1, 4, 4]), 0),
    /adaptiveAvgPool2d: outputSize must be positive integers/,
  );
});

test('crossEntropy: a target class out of range names the value and C', () => {
  assert.throws(() => F.crossEntropy(zeros([2, 5]), int([1, 7])), {
    message:
      'crossEntropy: target 7 (at index 1) is out of bounds for 5 classes (expected 0..4 or ignoreIndex -100)',
  });
  assert.throws(
    () => F.crossEntropy(zeros([2, 5]), int([-1, 0])),
    /target -1 \(at index 0\) is out of bounds for 5 classes/,
  );
  assert.throws(
    () => F.nllLoss(zeros([2, 5]), int([1, 5])),
    /nllLoss: target 5 .* out of bounds for 5 classes/,
  );
  assert.throws(
    () => F.crossEntropy(zeros([2, 5]), int([1, 2, 3])),
    /crossEntropy: expected target of shape \[2\] for input \[2, 5\], got \[3\]/,
  );
  assert.throws(
    () => F.crossEntropy(zeros([2, 5]), tensor([1, 2])),
    /probability targets must have the input's shape \[2, 5\], got \[2\] \(class-index targets must be int32\)/,
  );
  assert.throws(
    () => F.crossEntropy(zeros([2, 5]), int([1, 2]), { reduction: 'avg' as 'mean' }),
    /crossEntropy: reduction must be 'mean', 'sum' or 'none', got 'avg'/,
  );
});

test('other ops: linear features, batchNorm stats, bce range, dropout p, interpolate rank, softmax dim', () => {
  assert.throws(() => F.linear(zeros([3, 288]), zeros([16, 300])), {
    message: 'linear: input has 288 features (last dim of [3, 288]) but weight [16, 300] expects 300',
  });
  assert.throws(
    () => F.batchNorm(zeros([2, 3]), zeros([4]), ones([4])),
    /batchNorm: expected runningMean of shape \[3\] \(one per channel\), got \[4\]/,
  );
  assert.throws(
    () => F.batchNorm(zeros([1, 3]), null, null, null, null, { training: true }),
    /batchNorm: expected more than 1 value per channel when training/,
  );
  assert.throws(
    () => F.bceLoss(tensor([1.5]), tensor([1])),
    /bceLoss: all input elements must be between 0 and 1/,
  );
  assert.throws(
    () => F.mseLoss(zeros([2, 3]), zeros([3, 2])),
    /mseLoss: target shape \[3, 2\] must match input shape \[2, 3\]/,
  );
  assert.throws(
    () => F.dropout(zeros([2]), { p: 1.5 }),
    /dropout: probability p has to be between 0 and 1, got 1.5/,
  );
  assert.throws(
    () => F.interpolate(zeros([1, 1, 2]), { size: 4 }),
    /interpolate: expected a 4-D input \[N, C, H, W\], got shape \[1, 1, 2\]/,
  );
  assert.throws(
    () => F.interpolate(zeros([1, 1, 2, 2]), { size: 4, scaleFactor: 2 }),
    /interpolate: give exactly one of size and scaleFactor/,
  );
  assert.throws(() => F.softmax(zeros([2, 3]), 2), /softmax: dim 2 is out of range for a tensor with 2 dims/);
});
