// Package onnxpb holds ONNX's protobuf messages, generated with
// protoc-gen-go (google.golang.org/protobuf) from the official onnx.proto
// (onnx/onnx.proto3 of github.com/onnx/onnx, release 1.23: IR version 14).
// To regenerate, with protoc and protoc-gen-go on the PATH, from a copy of
// that file saved as onnx.proto in this folder:
//
//	protoc --go_out=. --go_opt=paths=source_relative \
//		--go_opt=Monnx.proto=github.com/vknn/vknn/onnx/onnxpb onnx.proto
package onnxpb
