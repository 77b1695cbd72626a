/** A writable that keeps what is written: the CLI's stdout or stderr in an in-process run. */
export function capture(): { write(chunk: string): void; readonly text: string } {
    let text = "";
    return {
        write: (chunk: string) => void (text += chunk),
        get text() {
            return text;
        },
    };
}
