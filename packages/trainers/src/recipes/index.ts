// The recipes: each a function with typed options and documented defaults, on the Trainer.
export { isDecoderParameter, selectParameters, type OptimizerSettings, type ParameterSelection, type RunOptions } from './common';
export { fineTuneTokenizer, trainTokenizer, type FineTuneOptions, type GanSettings, type TrainableTokenizerModule, type TrainTokenizerOptions } from './tokenizer';
export { trainProxyCodes, trainTwoStage, type TrainProxyCodesOptions, type TwoStageOptions } from './proxy-codes';
export { trainGenerator, type TrainableGeneratorModule, type TrainGeneratorOptions } from './generator';
