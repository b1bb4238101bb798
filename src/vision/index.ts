/**
 * `vision` (Node entry): datasets (MNIST, FashionMNIST, ImageFolder, ImageFiles), image files through
 * sharp, grids, and the transforms. The transforms, `imageGrid` and `toChannels` are browser-safe.
 */
export * as transforms from './transforms/index.js';
export { MNIST, mnistDataFolder } from './mnist.js';
export type { MNISTOptions } from './mnist.js';
export { FashionMNIST, loadFashionMNIST } from './fashion-mnist.js';
export type { FashionMNISTOptions } from './fashion-mnist.js';
export { InMemoryImageDataset } from './image-dataset.js';
export type { ImageDatasetOptions } from './image-dataset.js';
export { ImageFolder, ImageFiles, FileImageDataset, IMAGE_EXTENSIONS } from './image-folder.js';
export type { FileImageDatasetOptions, ImageFilesOptions } from './image-folder.js';
export { readImage, writeImage, decodeImage } from './image-io.js';
export type { DecodeOptions, WriteImageOptions } from './image-io.js';
export { imageGrid, toChannels, colormaps } from './grid.js';
export type { ImageGridOptions, ToChannelsOptions, Colormap } from './grid.js';
export { rawToTensor, tensorToRaw, isRawImage } from './image.js';
export type { RawImage } from './image.js';
export { parseIdx, readIdx } from './idx.js';
export type { IdxArray } from './idx.js';
