// Entry point of the stand-in alicloud resource plugin: started by the Pulumi
// engine (through the launcher installStandInAlicloudPlugin installs) like any
// resource plugin, it serves the ResourceProvider protocol on 127.0.0.1 and
// prints the port as the first and only line on stdout (the engine's handshake).
// The account it manages is the Alibaba stand-in's, reached through
// ALICLOUD_STANDIN_CONTROL. The engine's arguments (its address, log flags)
// are not needed.

import { ControlClient } from "./control";
import { startPluginServer } from "./server";

async function main(): Promise<void> {
    const control = ControlClient.fromEnv();
    const { port, stop } = await startPluginServer({ control });
    process.stdout.write(`${port}\n`);
    const shutdown = () => {
        stop().finally(() => process.exit(0));
    };
    process.on("SIGINT", shutdown);
    process.on("SIGTERM", shutdown);
}

main().catch((error: Error) => {
    process.stderr.write(`alicloud stand-in plugin: ${error.message}\n`);
    process.exit(1);
});
