// tfjs-core registers its gradient functions only through this side-effect module (the union
// `@tensorflow/tfjs` package imports it). Without it, tf.grad fails for every op in plain Node.
// Browser bundlers resolve it against the app's own tfjs-core; the Node build inlines it (see tsup.config.ts).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
