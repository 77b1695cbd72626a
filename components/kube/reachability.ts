/** Whether an API server URL accepts TCP connections from here: undefined when it does, else the failure (a code). */
import * as net from "node:net";

export function tcpReachable(serverUrl: string, timeoutMs = 5000): Promise<string | undefined> {
    const url = new URL(serverUrl);
    const port = Number(url.port || (url.protocol === "http:" ? 80 : 443));
    return new Promise((resolve) => {
        const socket = net.connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port });
        const done = (problem: string | undefined) => {
            socket.destroy();
            resolve(problem);
        };
        socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs} ms`));
        socket.once("connect", () => done(undefined));
        socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    });
}
