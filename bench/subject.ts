// What the verification bench measures: hookguard's verification entry points. bench/build.ts
// bundles this file the way tsup ships the package, so the numbers are those of the code
// users run (tsx, which runs the bench itself, wraps every closure in a naming helper).
export { verifyRequest, verifyWebhook } from "../src/verify";
export { github } from "../src/schemes/github";
export { standardWebhooks } from "../src/schemes/standard-webhooks";
export { stripe } from "../src/schemes/stripe";
