// Get a platform token with Microsoft's own library and exit, the job
// bench/scripts/token.lua does. AZURE_POD_IDENTITY_AUTHORITY_HOST points
// both at the same IMDS emulator.
const { ManagedIdentityCredential } = require("@azure/identity");

async function main() {
  const credential = new ManagedIdentityCredential();
  const token = await credential.getToken("https://management.azure.com/.default");
  process.stdout.write(token.token ? "imds\n" : "none\n");
}

main().catch((err) => {
  process.stderr.write(`token failed: ${err.name}\n`);
  process.exit(1);
});
