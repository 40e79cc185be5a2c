// A labelled corpus generated from a seed: ham and spam of varied shapes (plain text, HTML only,
// multipart/alternative, base64 and quoted-printable bodies, encoded-word subjects) in English,
// German, French, Spanish and Japanese. Topics overlap on purpose (both classes talk about
// accounts, orders, money and meetings), so the filter has to weigh words, not match a marker.

export interface LabelledMessage {
  spam: boolean;
  raw: Buffer;
}

/** Deterministic PRNG (mulberry32): the same seed gives the same corpus. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HAM: Record<string, string[]> = {
  en: ['meeting', 'tomorrow', 'agenda', 'project', 'review', 'draft', 'attached', 'thanks', 'lunch', 'kids', 'weekend', 'report', 'quarterly', 'budget', 'schedule', 'team', 'notes', 'deadline', 'invoice', 'order', 'shipped', 'tracking', 'recipe', 'garden', 'football', 'practice', 'library', 'book', 'club', 'conference', 'slides', 'feedback', 'minutes', 'dinner', 'birthday', 'photos', 'travel', 'flight', 'hotel', 'receipt'],
  de: ['besprechung', 'morgen', 'protokoll', 'projekt', 'entwurf', 'anhang', 'danke', 'mittagessen', 'kinder', 'wochenende', 'bericht', 'haushalt', 'termin', 'team', 'notizen', 'frist', 'rechnung', 'bestellung', 'versandt', 'sendungsverfolgung', 'rezept', 'garten', 'verein', 'training', 'bücherei', 'geburtstag', 'fotos', 'reise', 'flug', 'quittung'],
  fr: ['réunion', 'demain', 'ordre', 'projet', 'relecture', 'brouillon', 'pièce', 'jointe', 'merci', 'déjeuner', 'enfants', 'weekend', 'rapport', 'budget', 'planning', 'équipe', 'notes', 'échéance', 'facture', 'commande', 'expédiée', 'recette', 'jardin', 'anniversaire', 'photos', 'voyage', 'vol', 'hôtel', 'reçu'],
  es: ['reunión', 'mañana', 'agenda', 'proyecto', 'revisión', 'borrador', 'adjunto', 'gracias', 'almuerzo', 'niños', 'fin', 'semana', 'informe', 'presupuesto', 'horario', 'equipo', 'notas', 'plazo', 'factura', 'pedido', 'enviado', 'receta', 'jardín', 'cumpleaños', 'fotos', 'viaje', 'vuelo', 'recibo'],
  ja: ['会議', '明日', '議題', '資料', '確認', '添付', 'ありがとう', '昼食', '週末', '報告', '予算', '予定', '締切', '請求書', '注文', '発送', '写真', '旅行', '誕生日', 'よろしく'],
};

const SPAM: Record<string, string[]> = {
  en: ['viagra', 'cialis', 'pills', 'cheap', 'discount', 'winner', 'lottery', 'claim', 'prize', 'bitcoin', 'crypto', 'investment', 'guaranteed', 'returns', 'urgent', 'verify', 'suspended', 'password', 'click', 'unsubscribe', 'singles', 'dating', 'casino', 'bonus', 'free', 'offer', 'limited', 'act', 'now', 'million', 'inheritance', 'beneficiary', 'wire', 'transfer', 'loan', 'approved', 'credit', 'weight', 'loss', 'miracle'],
  de: ['gewinner', 'lotterie', 'gewinn', 'abholen', 'kostenlos', 'angebot', 'begrenzt', 'sofort', 'jetzt', 'klicken', 'konto', 'gesperrt', 'bestätigen', 'passwort', 'kredit', 'genehmigt', 'bitcoin', 'investition', 'garantiert', 'rendite', 'abnehmen', 'wunder', 'casino', 'bonus', 'erbschaft', 'überweisung'],
  fr: ['gagnant', 'loterie', 'prix', 'réclamer', 'gratuit', 'offre', 'limitée', 'maintenant', 'cliquez', 'compte', 'suspendu', 'vérifier', 'mot', 'passe', 'crédit', 'approuvé', 'bitcoin', 'investissement', 'garanti', 'rendement', 'minceur', 'miracle', 'casino', 'bonus', 'héritage', 'virement'],
  es: ['ganador', 'lotería', 'premio', 'reclamar', 'gratis', 'oferta', 'limitada', 'ahora', 'haga', 'clic', 'cuenta', 'suspendida', 'verificar', 'contraseña', 'préstamo', 'aprobado', 'bitcoin', 'inversión', 'garantizado', 'rentabilidad', 'adelgazar', 'milagro', 'casino', 'bono', 'herencia', 'transferencia'],
  ja: ['当選', '無料', '今すぐ', 'クリック', '限定', '特別', 'オファー', '口座', '停止', '確認', 'パスワード', '融資', '承認', '投資', '保証', '利益', 'ダイエット', '出会い', 'カジノ', 'ボーナス'],
};

/** Words both classes use. */
const SHARED: Record<string, string[]> = {
  en: ['the', 'your', 'and', 'for', 'with', 'this', 'please', 'account', 'order', 'today', 'information', 'here', 'you', 'we', 'our', 'money', 'time', 'new', 'email', 'message'],
  de: ['der', 'die', 'das', 'und', 'ihr', 'bitte', 'konto', 'heute', 'informationen', 'hier', 'sie', 'wir', 'geld', 'zeit', 'neu', 'nachricht'],
  fr: ['le', 'la', 'les', 'et', 'votre', 'pour', 'avec', 'compte', 'aujourd', 'hui', 'informations', 'ici', 'vous', 'nous', 'argent', 'temps', 'nouveau', 'message'],
  es: ['el', 'la', 'los', 'y', 'su', 'para', 'con', 'cuenta', 'hoy', 'información', 'aquí', 'usted', 'nosotros', 'dinero', 'tiempo', 'nuevo', 'mensaje'],
  ja: ['です', 'ます', 'お客様', '情報', '今日', 'こちら', 'メール', 'お知らせ'],
};

const HAM_DOMAINS = ['colleague.example', 'family.example', 'school.example', 'shop.example', 'club.example', 'univ.example'];
const SPAM_DOMAINS = ['promo-deals.example', 'win-now.example', 'secure-verify.example', 'pharma-store.example', 'crypto-gain.example'];
const HAM_LINKS = ['docs.colleague.example', 'shop.example', 'tracking.shop.example'];
const SPAM_LINKS = ['claim-prize.example', 'login-verify.example', 'cheap-pills.example', 'bit.example'];
const LANGS = ['en', 'en', 'en', 'de', 'fr', 'es', 'ja'];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

function sentence(r: () => number, lang: string, own: Record<string, string[]>, other: Record<string, string[]>, len: number): string {
  const sep = lang === 'ja' ? '' : ' ';
  const words: string[] = [];
  for (let i = 0; i < len; i++) {
    const x = r();
    // Mostly the class's own words, some shared ones, and now and then the other class's words.
    const src = x < 0.45 ? own : x < 0.93 ? SHARED : other;
    words.push(pick(r, src[lang]!));
  }
  return words.join(sep) + (lang === 'ja' ? '。' : '.');
}

function encodedWord(s: string): string {
  return `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

function qp(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (b >= 33 && b <= 126 && b !== 61 ? String.fromCharCode(b) : b === 32 ? ' ' : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('').replace(/(.{70})/g, '$1=\r\n');
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64').replace(/(.{76})/g, '$1\r\n');
}

export function generateMessage(r: () => number, spam: boolean, n: number): Buffer {
  const lang = pick(r, LANGS);
  const own = spam ? SPAM : HAM;
  const other = spam ? HAM : SPAM;
  const domain = pick(r, spam ? SPAM_DOMAINS : HAM_DOMAINS);
  const subject = sentence(r, lang, own, other, 3 + Math.floor(r() * 4)).replace(/[.。]$/, '');
  const paragraphs: string[] = [];
  const count = 1 + Math.floor(r() * 4);
  for (let i = 0; i < count; i++) paragraphs.push(sentence(r, lang, own, other, 8 + Math.floor(r() * 20)));
  const link = `https://${pick(r, spam ? SPAM_LINKS : HAM_LINKS)}/${Math.floor(r() * 1e6).toString(36)}`;
  if (r() < 0.6) paragraphs.push(link);
  const text = paragraphs.join('\r\n\r\n');
  const html = `<html><body>${paragraphs.map((p) => (p.startsWith('https://') ? `<p><a href="${p}">${p}</a></p>` : `<p>${p}</p>`)).join('')}</body></html>`;
  const head = [
    `From: ${spam ? 'Service' : 'Friend'} <${spam ? pick(r, ['info', 'noreply', 'support', 'winner']) : pick(r, ['anna', 'ben', 'chris', 'dana'])}@${domain}>`,
    'To: alice@example.test',
    `Subject: ${/^[\x20-\x7e]*$/.test(subject) ? subject : encodedWord(subject)}`,
    `Date: Mon, 1 Jan 2024 ${String(n % 24).padStart(2, '0')}:00:00 +0000`,
    `Message-ID: <c${n}.${spam ? 's' : 'h'}@${domain}>`,
    'MIME-Version: 1.0',
  ];
  const shape = Math.floor(r() * 4);
  let body: string;
  if (shape === 0) {
    head.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    body = text;
  } else if (shape === 1) {
    head.push('Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable');
    body = qp(html);
  } else if (shape === 2) {
    head.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64');
    body = b64(text);
  } else {
    const boundary = `b${n}x`;
    head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body = [
      `--${boundary}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', qp(text),
      `--${boundary}`, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(html),
      `--${boundary}--`, '',
    ].join('\r\n');
  }
  return Buffer.from(head.join('\r\n') + '\r\n\r\n' + body + '\r\n', 'utf8');
}

/** `size` messages, spam with probability `spamShare`, in a shuffled order. */
export function generateCorpus(size: number, seed = 19, spamShare = 0.5): LabelledMessage[] {
  const r = rng(seed);
  const out: LabelledMessage[] = [];
  for (let i = 0; i < size; i++) {
    const spam = r() < spamShare;
    out.push({ spam, raw: generateMessage(r, spam, i) });
  }
  return out;
}
