" Vim syntax file for nnc's .nn model files (editors/README.md).
if exists("b:current_syntax")
  finish
endif

syn keyword nnKeyword import model layer cell train input target param output loss state call step
syn keyword nnType float int
syn match nnSetting "^\s*\zs\(data\|optimizer\|batch\|epochs\|test_split\|validation_split\|validation_data\|seed\|scale\|sample_every\|sample_length\|clip_norm\|schedule\|monitor\|early_stopping\)\>"
syn keyword nnBuiltin neg relu sigmoid tanh exp log sqrt softplus gelu softmax log_softmax linear
syn keyword nnBuiltin cross_entropy mse concat slice embedding dropout cache transpose permute
syn keyword nnBuiltin reshape dot layer_norm causal_mask mask not_padding positions repeat
syn keyword nnBuiltin glorot_uniform glorot he_uniform he zeros ones constant uniform normal
syn keyword nnBuiltin csv text babi sgd adam rmsprop nesterov adamw step exponential cosine plateau
syn keyword nnBuiltin sequence last
syn match nnLayer "\<[A-Z][A-Za-z0-9_]*\ze\s*("
syn match nnNumber "\<\d\+\(\.\d*\)\=\([eE][-+]\=\d\+\)\=\>"
syn region nnString start=+"+ skip=+\\.+ end=+"+ oneline
syn match nnComment "#.*$" contains=@Spell
syn match nnOperator "[@+\-*/=]"

hi def link nnKeyword Keyword
hi def link nnType Type
hi def link nnSetting Identifier
hi def link nnBuiltin Function
hi def link nnLayer Structure
hi def link nnNumber Number
hi def link nnString String
hi def link nnComment Comment
hi def link nnOperator Operator

let b:current_syntax = "nn"
