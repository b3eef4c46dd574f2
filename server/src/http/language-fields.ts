/**
 * Request fields shared by the routes that take them: notices in the villagers'
 * languages (zones, broadcasts, the content library) and overriding the
 * commune's broadcast rules (broadcasts, schedules).
 */
import { Type } from '@sinclair/typebox';
import { LANGUAGE_CODE_PATTERN } from '../public/languages';

export const LanguageCode = Type.String({ pattern: LANGUAGE_CODE_PATTERN, maxLength: 20 });

/** A zone's languages, in the order a notice's versions are heard there. */
export const ZoneLanguages = Type.Array(LanguageCode, {
  minItems: 1,
  maxItems: 8,
  uniqueItems: true,
  description:
    'language codes (ISO 639: vi, hmn, blt, km, rad, …) a notice’s versions play in here, in this order; ' +
    'a notice without a version in any of them plays in Vietnamese',
});

/** The administrative codes a disaster alert's geocodes reach a zone by. */
export const ZoneGeocodes = Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:=-]+$' }), {
  maxItems: 20,
  uniqueItems: true,
  description:
    'codes an alert’s <geocode> reaches this zone by: the value ("137") or scheme=value ("MA_DVHC=137"); ' +
    'its loudspeakers are reached even without a map position',
});

/** A leader lets one play through the commune's broadcast rules (quiet hours, limits), with a reason. */
export const OverrideRules = Type.Object(
  { reason: Type.String({ minLength: 5, maxLength: 500, pattern: '\\S' }) },
  { additionalProperties: false, description: 'only a leader (approver or admin), for a single play; audited' },
);

/** A notice's versions in other languages, as the author gives them. */
export const VersionsInput = Type.Array(
  Type.Object(
    {
      language: LanguageCode,
      audio: Type.String({
        pattern: '^[0-9a-f]{64}$',
        description: 'sha256 of the uploaded or recorded file (POST /api/v1/audio)',
      }),
      title: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
      text: Type.Optional(Type.String({ maxLength: 5000 })),
    },
    { additionalProperties: false },
  ),
  {
    maxItems: 8,
    description:
      'the notice in other languages: each plays after the Vietnamese on the loudspeakers whose zones list ' +
      'its language, as its own occurrence',
  },
);

/** A zone's area drawn on the map: a ring of [lat, lon] points (WGS 84), or null to remove it. */
export const ZoneArea = Type.Union(
  [
    Type.Array(Type.Tuple([Type.Number({ minimum: -90, maximum: 90 }), Type.Number({ minimum: -180, maximum: 180 })]), {
      minItems: 3,
      maxItems: 500,
    }),
    Type.Null(),
  ],
  {
    description:
      'the zone’s area as [lat, lon] points (at least 3); a disaster alert overlapping it reaches the zone’s ' +
      'loudspeakers that have no map position',
  },
);
