// Child process of register.test.ts: plain require of noble, the way an app would, with or without
// HARNESS_BLE=virtual (+ --require register.cjs). Prints the adapter state or the load error code.
let noble;
try {
  noble = require('@abandonware/noble');
} catch (err) {
  console.log(JSON.stringify({ loadError: err.code ?? err.message }));
  process.exit(0);
}
noble.on('stateChange', (state) => {
  console.log(JSON.stringify({ state, address: noble.address }));
  process.exit(0);
});
