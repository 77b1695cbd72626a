// Reads a file a user names on the command line, within a size cap: the size is
// checked with fs.statSync before anything is read (a huge file is never loaded
// into memory), only a regular file is read (not a FIFO, a device or a
// directory, which could block or never end), and the read itself stops one
// byte past the cap (a file that grew after the check is refused too).
// Messages name the file and the limit, never the content.
import * as fs from "node:fs";

/**
 * The text of `file` (UTF-8), or `refuse(message)` thrown when it cannot or
 * must not be read. `what` names the file's role in messages ("stack file").
 */
export function readTextFileWithin(file: string, maxBytes: number, what: string, refuse: (message: string) => Error): string {
    return readFileWithin(file, maxBytes, what, refuse).toString("utf8");
}

/** The bytes of `file`, under the same rules as readTextFileWithin. */
export function readFileWithin(file: string, maxBytes: number, what: string, refuse: (message: string) => Error): Buffer {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch (e) {
        throw refuse(`cannot read the ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (!stat.isFile()) throw refuse(`the ${what} ${file} is not a regular file; give the path of a file`);
    if (stat.size > maxBytes) {
        throw refuse(`the ${what} ${file} is ${stat.size} bytes, more than the ${maxBytes} accepted; is it the right file?`);
    }
    let fd: number;
    try {
        fd = fs.openSync(file, "r");
    } catch (e) {
        throw refuse(`cannot read the ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    try {
        // Sized by the file, not the cap: a 200-byte token file costs 200 bytes (one more detects growth past the check).
        const buffer = Buffer.alloc(Math.min(maxBytes, stat.size) + 1);
        let length = 0;
        while (length < buffer.length) {
            const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
            if (n === 0) break;
            length += n;
        }
        if (length > stat.size) throw refuse(`the ${what} ${file} changed while it was read; try again`);
        return buffer.subarray(0, length);
    } finally {
        fs.closeSync(fd);
    }
}
