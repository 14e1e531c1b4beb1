export declare const MAX_MESSAGE_BYTES: number;
export declare function utf8Bytes(text: string): number;
export declare function validateMessageText(text: string): { ok: true } | { ok: false; error: string };
