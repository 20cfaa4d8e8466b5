/**
 * `@mobileops/onnx`: loads ONNX files into a graph of core operators.
 *
 * @module
 */

export {};
