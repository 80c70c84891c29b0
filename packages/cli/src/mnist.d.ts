// The mnist package ships no types; the demo hands it to @vtok/trainers' mnistDigits, which checks its shape.
declare module 'mnist';
