// Package model holds qcredit's domain types: the v1 event contract and its
// validation, the unified social credit code (USCC, 统一社会信用代码), GB/T 2260
// region codes, GB/T 4754 industry codes, and enterprise state.
//
// It imports only the standard library so every other package can share it.
package model
