// The errors the Kubernetes API test server answers with: each becomes a
// Status object with this code, reason and (optional) details.

import type { JsonObject } from "./patch";

/** An API error the server turns into a Status object with this code and reason. */
export class ApiError extends Error {
    constructor(
        readonly code: number,
        readonly reason: string,
        message: string,
        readonly details?: JsonObject,
    ) {
        super(message);
    }
}

export function conflict(name: string, message: string): ApiError {
    return new ApiError(409, "Conflict", `Operation cannot be fulfilled on secrets "${name}": ${message}`, {
        name,
        kind: "secrets",
    });
}

export function notFound(name: string, resource = "secrets"): ApiError {
    return new ApiError(404, "NotFound", `${resource} "${name}" not found`, { name, kind: resource });
}

export function invalid(name: string, message: string): ApiError {
    return new ApiError(422, "Invalid", `Secret "${name}" is invalid: ${message}`, { name, kind: "Secret" });
}
