// Starts the stand-in: the CS and KMS endpoints on plain HTTP, STS on TLS when
// asked, and the control API (./control.ts) for the stand-in alicloud plugin,
// all over one StandInState, and the handle tests drive it through.

import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { serverCertificate } from "../kubeStandIn/auth";
import { handleControl } from "./control";
import { handleCs } from "./cs";
import { requestId, send } from "./http";
import { handleKms } from "./kms";
import { StandInState } from "./state";
import { CREDENTIALS_URI_PATH, handleSts } from "./sts";
import type { AlibabaStandIn, StandInOptions } from "./types";

type Handler = (state: StandInState, req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** An HTTP server for one service; a bug in the stand-in answers 500 instead of hanging the client. */
function serve(state: StandInState, handler: Handler): http.Server {
    return http.createServer((req, res) => {
        handler(state, req, res).catch((error: Error) => {
            if (!res.headersSent) send(res, 500, { code: "InternalError", message: `stand-in failure: ${error.message}`, requestId: requestId() });
            else res.destroy();
        });
    });
}

function listen(server: http.Server): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
}

function stop(server: http.Server): Promise<void> {
    return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
    });
}

/** STS over TLS with the test certificate, and a CA file for NODE_EXTRA_CA_CERTS. */
async function startSts(state: StandInState): Promise<{ server: https.Server; caFile: string }> {
    const { cert, key } = await serverCertificate();
    const server = https.createServer({ cert, key }, (req, res) => {
        handleSts(state, req, res).catch(() => res.destroy());
    });
    const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sts-ca-")), "ca.pem");
    fs.writeFileSync(caFile, cert);
    return { server, caFile };
}

export async function startAlibabaStandIn(options: StandInOptions = {}): Promise<AlibabaStandIn> {
    const state = new StandInState(options);
    const csServer = serve(state, handleCs);
    const kmsServer = serve(state, handleKms);
    const controlServer = serve(state, handleControl);
    const [csPort, kmsPort, controlPort] = await Promise.all([listen(csServer), listen(kmsServer), listen(controlServer)]);
    const sts = options.sts ? await startSts(state) : undefined;
    const stsServer = sts?.server as unknown as http.Server | undefined;
    const stsCaFile = sts?.caFile;
    const stsPort = stsServer ? await listen(stsServer) : undefined;
    const { clusters, knobs, calls } = state;

    return {
        csEndpoint: `http://127.0.0.1:${csPort}`,
        kmsEndpoint: `http://127.0.0.1:${kmsPort}`,
        controlEndpoint: `http://127.0.0.1:${controlPort}`,
        stsEndpoint: stsPort ? `127.0.0.1:${stsPort}` : undefined,
        credentialsUri: `http://127.0.0.1:${csPort}${CREDENTIALS_URI_PATH}`,
        stsCaFile,
        addAccessKey: (id, secret, securityToken) => void state.accessKeys.set(id, { secret, securityToken }),
        addRole: (role) => void state.roles.set(role.roleArn, role),
        addRamRole: (partial) => state.addRamRole(partial),
        accessKeyId: state.accessKeyId,
        accessKeySecret: state.accessKeySecret,
        regionId: state.regionId,
        clusters,
        keys: state.keys,
        roles: state.roles,
        kmsInstances: state.kmsInstances,
        vswitches: state.vswitches,
        policyAttachments: state.policyAttachments,
        ramUsers: state.ramUsers,
        addRamUser: (userName) => void state.ramUsers.add(userName),
        addKmsInstance: (partial) => state.addKmsInstance(partial),
        addVSwitch: (partial) => state.addVSwitch(partial),
        knobs,
        calls,
        controlWrites: state.controlWrites,
        addCluster: (partial) => state.addCluster(partial),
        addKey: (partial) => state.addKey(partial),
        rotateKey: (keyId, at) => state.rotateKey(keyId, at),
        scenario: {
            notProCluster: (id) => void (state.mustCluster(id).clusterSpec = "ack.standard"),
            removeCluster: (id) => void (state.mustCluster(id), clusters.delete(id)),
            stillUpdatingFor: (polls) => void (knobs.updatingPolls = polls),
            conflictOnce: () => void (knobs.conflictsBeforeAccept = 1),
            forbidUpdates: () => void (knobs.forbidUpdate = true),
            disableKey: (id) => void (state.mustKey(id).keyState = "Disabled"),
            makeServiceKey: (id) => void (state.mustKey(id).creatorType = "Service"),
            setKeySpec: (id, spec) => void (state.mustKey(id).keySpec = spec),
        },
        callsOf: (action) => calls.filter((call) => call.action === action),
        close: async () => {
            await Promise.all([stop(csServer), stop(kmsServer), stop(controlServer), ...(stsServer ? [stop(stsServer)] : [])]);
            if (stsCaFile) fs.rmSync(path.dirname(stsCaFile), { recursive: true, force: true });
        },
    };
}
