export declare function normalizeRoomCode(input: string): { ok: true; code: string } | { ok: false; error: string };
export declare function validateName(input: string): { ok: true; name: string } | { ok: false; error: string };
export declare const MAX_NAME_CHARS: number;
