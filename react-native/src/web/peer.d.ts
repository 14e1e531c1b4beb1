export declare const RTC_CONFIGURATION: { iceServers: unknown[] };
