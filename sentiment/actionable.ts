// Whether a mention needs a reply from the brand, and why: keyword rules per language plus the sentiment label.
// The sentiment models use the reasons found here as features: after changing a lexicon, npm run train:sentiment.
import { foldLetters } from './fold.ts';
import type { Lang } from './language.ts';
import type { ActionExclusion, ActionReason, Actionability, SentimentResult } from './types.ts';

export interface ActionabilityInput {
  /** Title and text already joined. */
  text: string;
  lang: Lang;
  sentiment: Pick<SentimentResult, 'label' | 'score' | 'confidence' | 'lowConfidence'>;
  /** 1..5 stars for reviews, else null. */
  rating: number | null;
  /** Written by the brand's own account. */
  ownPost: boolean;
  /** The brand already answered on the source. */
  answered: boolean;
  /** The source marks it as an ad. */
  sponsored?: boolean;
}

/** Strongest first: the order of `Actionability.reasons`. */
const REASON_PRIORITY: readonly ActionReason[] = [
  'safety', 'legal_threat', 'fraud_claim', 'churn_threat', 'complaint', 'question', 'praise',
];

const GRIEVANCES: ReadonlySet<ActionReason> = new Set(['safety', 'legal_threat', 'fraud_claim', 'churn_threat', 'complaint']);

/** Below this the sentiment label is too weak to act on without a rule. */
const CONFIDENT = 0.6;

type RuleKey = ActionReason | 'ad' | 'spam' | 'news' | 'firstPerson';

/**
 * Pattern sources in a small shorthand, written in natural spelling and folded like the text:
 * a space matches any run of whitespace, `~` any word ending, ` … ` up to two other words, `\p{L}` a letter.
 * `words` match whole words only; `raw` patterns bring their own boundaries.
 */
interface Patterns {
  words?: readonly string[];
  raw?: readonly string[];
}
type Lexicon = Partial<Record<RuleKey, Patterns>>;

// Explicit ranges instead of \p{L}: the text is lower-cased, and without the `u` flag V8 runs these regexes
// several times faster (a Unicode-aware lookbehind at every position dominated the cost).
const LETTER = 'a-z\\u00c0-\\u024f\\u0400-\\u04ff';
const WORD_CHAR = `0-9${LETTER}`;
const B = `(?<![${WORD_CHAR}])`;
const E = `(?![${WORD_CHAR}])`;
// A question word, then the rest of its sentence up to a question mark; bounded so that a long text full of
// question words and no question mark costs linear time.
const ASKS = `${E}[^.!?\\n]{0,300}[?]`;

function normalize(text: string): string {
  return foldLetters(text.toLowerCase());
}

const RU: Lexicon = {
  safety: {
    words: [
      'отрав~', 'пожар(?:а|е|ом|ы|ов|ище)?', 'возгоран~', 'загорел(?:ся|ась|ось|ись)', 'взорвал~', 'взрыв~', 'травм~', 'ожог~',
      'обжег~', 'угроз~ (?:жизни|здоровью)', 'опасн~', 'небезопасн~', 'госпитализ~', 'реанимац~',
      'скор(?:ую|ой) помощ~', 'в больниц~', 'удар~ током', 'током (?:ударил|бь)~', 'аллергическ~ реакц~',
      'плесен~', 'таракан~',
    ],
  },
  legal_threat: {
    words: [
      'суд(?:ом|е|у|ы|ебн~|ить~|иться|имся)?', 'до суда', 'через суд', 'засуж~', 'подам (?:иск|заявлени~)',
      'иск(?:а|у|ом|ов(?:ое|ого|ым))?', 'прокурат~', '(?:рос)?потребнадзор~', 'прав~ потребител~', 'юрист~',
      'адвокат~', 'юридическ~', '(?<!без\\s+)претензи~(?! нет)', 'арр?фр', 'нарушени~ (?:закон~|прав|моих прав)',
      '(?:жалоб~|пожалуюсь|напишу|напишем|обращусь|обратимся|обратил~|обращени~|заявлени~|сообщу) … (?:в|во) '
        + '(?:цб|нацбанк~|центробанк~|нбрк|полици~|фас|антимонопольн~|мвд|агентств~|омбудсмен~|банк росси~)',
    ],
  },
  fraud_claim: {
    words: [
      'мошен~', 'развод(?:ом|ят|ил~|няк~)?', 'развел(?:и|а)?', 'обманул~', 'обманщик~', 'кинул~ на (?:деньги|бабки)',
      'кидал~', 'укра(?:л|ла|ли|дены)', 'краж~', 'воруют', 'ворье', 'воры', 'своровал~',
      'без (?:моего |нашего |его |ее )?(?:согласия|ведома|разрешения)', 'фишинг~', 'афер~', 'лохотрон~',
      'финансов~ пирамид~', 'несанкционирован~', 'взломал~',
    ],
  },
  churn_threat: {
    words: [
      // Bare "ухожу" is also "I'm going on leave": only a destination or the end of a sentence makes it churn.
      '(?:ухожу|уйду|уходим|уйдем)(?=\\s*(?:[.!,;]|$))',
      '(?:ухожу|уйду|уходим|уйдем|перехожу|перейду|переходим|перейдем) (?:от вас|(?:к|в|на) (?:конкурент~|друг~|[a-z]+))',
      'к конкурент~', 'удал(?:яю|ил|ила|ю|им|яем) (?:это |ваше )?(?:приложени|аккаунт|акк|профил|карт)~',
      'закр(?:ою|оем|ываю|ыл|ыла|ыть) (?:свой |мой |все )?(?:счет|карт|вклад|депозит|кредитк|аккаунт)~',
      '(?:больше (?:никогда )?|никогда больше )не (?:буду|будем|стану|приду|закажу|куплю|пойду|воспользуюсь|вернусь)~',
      'ноги (?:моей|нашей)', 'последний раз (?:заказываю|покупаю|пользуюсь|беру|обращаюсь)', 'отпис(?:ываюсь|ываемся|ался|алась|ались|усь)',
      'отмен(?:ю|яю|ил|ила) подписк~', 'расторг(?:ну|аю|ли)~', 'расторжени~', 'отказ(?:ываюсь|ался|алась) от (?:услуг|подписк|карт|ваш)~',
    ],
  },
  complaint: {
    words: [
      'не (?:работа|функционир)~', 'перестал~ работать',
      'не (?:приход|пришл|пришел|придет|придут|доставил|доставля|зачисл|поступ|отобража|открыва|загружа|грузит|'
        + 'проход|отвеча|ответил|верн|возвраща|выда|включа)~',
      'не (?:могу|можем|может|смог~|получается|удается) (?:никак )?(?:войти|зайти|залогин~|авториз~|оплатить|'
        + 'перевести|снять|вывести|дозвониться|связаться|получить|восстановить|отменить|вернуть|подключить|'
        + 'открыть|скачать|обновить|пополнить|добиться|достучаться)',
      'спис(?:али|ал|ала|ало|алось|ались|ывают|ывает)', '(?:за)?блокир(?:овали|овал|овала|овано|ован~|уют|ует|овк~)',
      'верните', 'верни (?:мне |мои )?(?:деньги|средства)', 'возврат~ (?:денег|средств)',
      'где (?:мои|мой|моя|наши|наш) (?:деньги|заказ|посылк~)',
      '(?:ужасн|отвратительн|кошмарн|отстойн|худш|хамск|мерзк|паршив|безобразн)~ … (?:сервис|обслуживани|'
        + 'качеств|доставк|приложени|поддержк|банк|магазин|компани|служб|отношени|курьер|связ|опыт|товар)~',
      'безобразие', 'позор~', 'хамств~', 'нахамил~', 'хамят', 'грубят', 'обсчитал~', 'обман~', 'жалоб~',
      '(?:по)?жалуюсь', 'жалуемся',
      '(?:про)?жд(?:ал|ала|али|ем|у|ешь) (?:уже |больше |более |почти |целых )?(?:[0-9]+|полчаса|час~|два|две|три|'
        + 'пять|несколько|сутки|день|недел~|месяц~)',
      '(?:[0-9]+|два|две|три|пять|несколько|целый|целую) (?:час~|дн~|дней|недел~|месяц~|минут) (?:про)?жд~',
      'нет (?:уже )?(?:[0-9]+|полчаса|час~|два|две|три|пять|несколько|сутки|недел~|месяц~)',
      'до сих пор (?:не|нет|жду|ждем)', 'опозда~', 'задерж~', 'глюч~', 'завис(?:ает|ают|ло|ла|нет)',
      'вылета(?:ет|ют)', 'лага(?:ет|ют)', 'тормоз(?:ит|ят)', '(?:выда|пиш|показыва)~ ошибк~', 'слома~',
      'бракованн~', 'испорчен~', 'просрочен~', 'тухл~', 'некачественн~', 'не соответству~', 'не рекоменд~',
      'не советую', 'недовол~',
    ],
  },
  question: {
    raw: [
      `${B}(?:как|почему|зачем|когда|где|куда|откуда|сколько|что|чем|чего|кто|кому|как(?:ой|ая|ое|ие|им|ую|их|ого)|`
        + `ли|разве|неужели|можно|нельзя|долго)${ASKS}`,
    ],
    words: [
      'подскаж(?:ите|и)', 'скажите', 'объясните', 'помогите', 'сообщите', 'ответьте', 'перезвоните', 'можно ли',
      'прошу (?:вас )?(?:помочь|разобраться|ответить|связаться|перезвонить|вернуть|решить|проверить|объяснить)',
      'как (?:мне|можно|быть)', 'что (?:мне )?делать',
    ],
  },
  praise: {
    words: [
      'спасибо (?:вам )?(?:большое|огромное|огромнейшее)', '(?:большое|огромное|огромнейшее|отдельное) спасибо',
      'благодар(?:ю|им|ность|ны|на|ен)', '(?<!не\\s+)(?:рекомендую|рекомендуем|советую)',
      'лучш~ … (?:сервис|банк|магазин|доставк|приложени|обслуживани|поддержк|компани|служб|оператор|курьер|'
        + 'ресторан|кафе)~',
      'молодц(?:ы|ом)', 'молодец', 'на высоте', 'в восторге', 'восхищ~', 'обожаю', 'респект',
      '(?:отличн|прекрасн|великолепн|замечательн|потрясающ|супер)~ … (?:сервис|обслуживани|доставк|приложени|'
        + 'работ|поддержк|команд|качеств)~',
    ],
  },
  ad: {
    raw: [`(?:^|[\\n(\\[|])\\s*реклама${E}`],
    words: [
      'промокод~\\s*[:«"“-]*\\s*[a-z0-9][a-z0-9_-]{2,}', 'скидк~ (?:[\\p{L}\\p{N}]+ ){0,3}по (?:моей )?ссылке',
      'по ссылке (?:в )?(?:био|профиле|описании|шапке|ниже)', 'ссылк~ в (?:био|профиле|описании|шапке)',
      'на правах рекламы', 'рекламн~ (?:пост|интеграц)~', 'реклама\\s*[.:]\\s*(?:ооо|ип|ао|тоо|инн)',
      'подписывайтесь', 'подпишитесь', 'подписывайся', 'подпишись', '(?:переходи|жми)(?:те)? (?:по|на) ссылк~',
    ],
  },
  spam: {
    words: [
      'без вложений', 'пассивн~ доход~', 'доход~ от [0-9]+', 'заработ~ (?:от )?[0-9]+\\S* … (?:в|за) (?:день|час|неделю)',
      'пиши(?:те)? в (?:лс|личк~|директ|телеграм~|тг)', '(?:раздач~|раздаю|раздаем) (?:[\\p{L}\\p{N}]+ )?'
        + '(?:крипт~|биткоин~|btc|usdt|eth|токен~)', 'казино', 'ставк~ на спорт', 'интим~', 'букмекер~',
    ],
  },
  news: {
    words: [
      'сообща(?:ет|ют|ется|лось)', 'как сообщил~', 'по данным', 'по информации', 'как стало известно',
      'пресс-?служб~', 'говорится в (?:сообщении|заявлении|релизе)', 'передает', 'передают', 'напомним',
      'отмечается в', 'информационн~ агентств~',
      '(?:в компании|в банке|в пресс-?служб~|представител~ … ) (?:заявили|сообщили|пояснили|отметили|'
        + 'рассказали|подтвердили|прокомментировали)',
    ],
  },
  firstPerson: { words: ['я', 'мне', 'меня', 'мной', 'мо(?:й|я|е|и|его|ей|ему|их|им|ими|ю)'] },
};

const KK: Lexicon = {
  safety: {
    words: [
      'улан~', 'орт(?:ке|те|тен|ти|ен~)?', 'жаракат~', 'куйик~', 'куйип кал~', 'кауип(?!сиз)~', 'аурухана~',
      'жедел жардем~', 'жарыл(?:ды|ып)~', 'zharaqat~', 'jaraqat~', 'qauipt~', 'auruhana~', 'auruxana~',
    ],
  },
  legal_threat: {
    words: [
      'сот(?:ка|та|тан|ты|тын|пен|тар~)?', 'арыз~', 'заңгер~', 'тұтынушы~ құқ~', 'заңсыз~', 'sot(?:qa|ta|tan|ty)', 'zanger~', 'aryz~', 'zansyz~',
    ],
  },
  fraud_claim: {
    words: [
      'алаяк~', 'алда(?:п|ды|йды|йсыз|ушы|ган|нды|ндым|ндык)~', 'урла~', 'руксатсыз', 'келисимсиз',
      'ala[iy]aq~', 'alda(?:p|dy|idy|ushy|gan|ndy|ndym)~', 'urla~', 'ruqsatsyz',
    ],
  },
  churn_threat: {
    words: [
      'пайдаланба(?:ймын|ймыз)', 'колданба(?:ймын|ймыз)', '(?:осир|жой)(?:емин|дим|амын|дым|ып таста~)',
      'бәсекелес~', 'баска банк~ (?:ауыс|кет)~', 'ауысамын', 'кетемин', 'шот~ жаб~',
      'енди (?:ешкашан )?(?:[\\p{L}]+ )?(?:алмаймын|бармаймын|келмеймин|сатып алмаймын)',
      'pa[iy]dalanba[iy]myn', 'qoldanba[iy]myn', 'basqa bank~ (?:auys|ket)~',
    ],
  },
  complaint: {
    words: [
      'истемей~', 'ашылма(?:й|ды)~', 'жуктелме~', 'келме(?:ди|й)~', 'келген жок', 'жетме(?:ди|й)~',
      'жеткизилме~', 'акша~ … кайтар~', 'кайтарыныз~', 'шагым~', 'нашар', 'сапасыз~', '(?:бугатта|блокта)~',
      'жауап (?:бермей|берме|жок)~', 'кешик~', '(?:[0-9]+|бир|еки|уш|бес) сагат (?:бойы )?кут~',
      'алма(?:ймын|ймыз|йды|йсыз|дым|дык)', 'акша~ … (?:шешип|алып) (?:алды|кетти|койды)', 'маскара',
      'сұмдық', 'жиіркенішті',
      'istem[ei][iy]~', 'ashylma~', 'kelmedi', 'kelgen (?:joq|zhoq|jok|zhok)', 'aqsha~ … qa[iy]tar~',
      'qa[iy]taryn[iy]z~', 'shagym~', 'nashar', 'sapasyz~', 'keshik~', 'kire alma~', 'alma[iy]myn',
    ],
  },
  question: {
    raw: [
      `${B}(?:калай|неге|неликтен|кашан|кайда|кай|кайсы|кандай|канша|неше|ким|не|ма|ме|ба|бе|па|пе|qalai|qalay|`
        + `nege|qashan|qaida|qayda|qai|qandai|qanday|qansha|neshe|kim|ne|ma|me|ba|be|pa|pe)${ASKS}`,
      // The particle is often glued to its verb: "боладыма?".
      '\\p{L}(?:ма|ме|ба|бе|па|пе|ma|me|ba|be|pa|pe)\\s*[?]',
    ],
    words: [
      'айтыныз(?:шы)?', 'айтып берин~', 'комектесин~', 'комек керек', 'тусиндир(?:ип берин|ин)~',
      'жауап берин~', 'хабарласын~', 'a[iy]tyn[iy]z(?:shy)?', 'komektesin~', 'komek kerek',
    ],
  },
  praise: {
    words: [
      'рахмет~', 'ракмет~', 'керемет~', 'тамаша~', 'уздик~', 'усынамын', 'жарайсын~', 'жарайсыз', 'ризамын',
      'ra[hkq]h?met~', 'keremet~', 'tamasha~', 'uzdik~', 'usynamyn', 'zharaisyn~', 'jaraisyn~',
    ],
  },
  ad: {
    raw: [`(?:^|[\\n(\\[|])\\s*(?:жарнама|jarnama)${E}`],
    words: ['жазылыныз~', 'жазылындар', 'jazylynyz~'],
  },
  spam: { words: ['салымсыз~', 'уйден (?:табыс|жумыс)', 'тегин акша', 'salymsyz~'] },
  news: {
    words: [
      'хабарла(?:йды|ды|нды|ган|йтын)', 'малиметинше', 'малиметтерге сайкес', 'малиметтери бойынша',
      'баспасоз кызмет~', 'белгили болды', 'малим болды', 'малимде(?:ди|меде)~',
      '(?:x|h)abarla(?:idy|ydy|dy|ndy)', 'malimetinshe', 'baspasoz qyzmet~',
    ],
  },
  firstPerson: {
    // "мен" is also the Kazakh "and" after a noun: only the pronoun opening a sentence counts.
    raw: [`(?:^|[.!?,:;\\n]\\s*)(?:мен|men)${E}`],
    words: ['маган', 'менин', 'мени', 'менде', 'magan', 'menin', 'meni'],
  },
};

const UZ: Lexicon = {
  safety: {
    words: [
      'zaharlan~', 'захарлан~', "yong'in~", 'ёнгин~', 'jarohat~', 'жарохат~', 'kuyib qol~', 'kuydi~',
      'куйиб кол~', 'xavf(?!siz)~', 'havf(?!siz)~', 'хавф(?!сиз)~', 'kasalxona~', 'shifoxona~', 'касалхона~',
      'шифохона~', 'tez yordam', 'тез ёрдам', 'portla~', 'портла~',
    ],
  },
  legal_threat: {
    words: [
      'sud(?:ga|da|dan|ni|ning|lash~|lar~)?', 'суд(?:га|да|дан|ни|нинг|лаш~)', 'prokuratura~', 'advokat~',
      'yurist~', "da'vo~", 'даъво~', "iste'molchi~ huquq~", 'истеъмолчи~ хукук~', 'markaziy bankka',
      'марказий банкка', 'ariza (?:yozaman|beraman)', 'ариза (?:ёзаман|бераман)',
    ],
  },
  fraud_claim: {
    words: [
      'firib~', 'фириб~', 'alda(?:sh|di|b|v|n)~', 'алда(?:ш|ди|б|в|н)~', "o'g'irla~", 'угирла~',
      'ruxsatsiz', 'rozilig(?:im)?siz', 'рухсатсиз', 'розилиг(?:им)?сиз',
    ],
  },
  churn_threat: {
    words: [
      'foydalanma(?:yman|ymiz|yapman)', 'фойдаланма(?:йман|ймиз|япман)', "o'chirib tashla~", "o'chir(?:aman|dim)",
      'учириб ташла~', 'учир(?:аман|дим)', 'raqobatchi~', 'ракобатчи~',
      "boshqa \\p{L}+(?:ga|ka|qa) o't(?:aman|amiz|dim|dik|moqchiman)", 'бошка \\p{L}+(?:га|ка) ут(?:аман|амиз|дим)',
      'hisob~ yop~', 'хисоб~ ёп~',
      'endi (?:hech qachon )?(?:\\p{L}+ )?(?:olmayman|bormayman|buyurtma bermayman)',
      'энди (?:хеч качон )?(?:\\p{L}+ )?(?:олмайман|бормайман)',
    ],
  },
  complaint: {
    words: [
      'ishlama~', 'ишлама~', 'pul~ … qaytar~', 'qaytaring~', 'пул~ … кайтар~', 'кайтаринг~', 'kelma(?:di|yap)~',
      'келма(?:ди|яп)~', 'shikoyat~', 'шикоят~', 'sifatsiz~', 'сифатсиз~',
      'yomon … (?:xizmat|sifat|munosabat|ilova|dastur)~', 'ёмон … (?:хизмат|сифат|муносабат|илова)~',
      'blok(?:la|lan)~', 'блок(?:ла|лан)~', 'olma(?:yap~|dim|dik|yman|ymiz)', 'олма(?:яп~|дим|дик|йман|ймиз)',
      "javob (?:berma~|yo'q)", 'жавоб (?:берма~|йук)', 'kechik~', 'кечик~', 'soat(?:lab)? kut~', 'kut(?:yapman|dim)',
      'соат(?:лаб)? кут~', 'кут(?:япман|дим)', 'yechib ol~', 'yechil~', 'ечиб ол~', 'ечил~', 'dahshat~', 'дахшат~',
    ],
  },
  question: {
    raw: [
      `${B}(?:qanday|qanaqa|nega|nimaga|qachon|qayerda|qayerga|qayer|qaysi|nima|kim|qancha|necha|nechta|qalay|`
        + `кандай|канака|нега|нимага|качон|каерда|каерга|кайси|нима|ким|канча|неча|нечта|калай)${ASKS}`,
      // The particle -mi is glued to the word it asks about: "ishlaydimi?".
      '\\p{L}(?:mi|ми)\\s*[?]',
    ],
    words: [
      'ayting~', 'aytib bering~', 'yordam bering~', 'tushuntirib bering~', 'javob bering~', 'maslahat bering~',
      'айтинг~', 'айтиб беринг~', 'ёрдам беринг~', 'тушунтириб беринг~', 'жавоб беринг~',
    ],
  },
  praise: {
    words: [
      'rahmat~', 'raxmat~', 'рахмат~', "zo'r", 'зур', 'ajoyib~', 'ажойиб~', 'eng yaxshi~', 'энг яхши~',
      'tavsiya (?:qilaman|etaman)', 'тавсия (?:киламан|этаман)', 'qoyil', 'койил', 'barakalla', 'баракалла',
      'mamnun~', 'мамнун~', "a'lo", 'аъло',
    ],
  },
  ad: {
    raw: [`(?:^|[\\n(\\[|])\\s*reklama${E}`],
    words: [
      "obuna bo'ling~", 'обуна булинг~', 'promokod~\\s*[:«"“-]*\\s*[a-z0-9][a-z0-9_-]{2,}',
      'chegirma~ (?:\\p{L}+ ){0,3}havola~', 'havola~ orqali',
    ],
  },
  spam: { words: ['sarmoyasiz~', 'сармоясиз~', 'uydan (?:turib )?(?:pul|daromad)', 'уйдан (?:туриб )?(?:пул|даромад)', 'kazino'] },
  news: {
    words: [
      '(?:x|h)abar ber(?:di|moqda|ishdi|ildi|adi)', 'хабар бер(?:ди|мокда|ишди|илди|ади)', "ma'lumot~ ko'ra",
      'маълумот~ кура', 'matbuot xizmat~', 'матбуот хизмат~', "ma'lum bo'ldi", 'маълум булди',
      "deya (?:xabar|ta'kidla)~", 'дея (?:хабар|таъкидла)~',
    ],
  },
  firstPerson: {
    words: ['men', 'menga', 'meni', 'mening', 'mendan', 'menda', 'мен', 'менга', 'мени', 'менинг', 'мендан', 'менда'],
  },
};

const EN: Lexicon = {
  safety: {
    words: [
      'food poisoning', 'poison~', 'injur~', '(?:caught|started|a) fire', 'fire hazard', 'unsafe', 'dangerous',
      'hazard(?:ous)?', 'explod~', 'explosion', 'hospital~', 'allergic reaction', 'chok(?:ed|ing) on',
      'electric shock', 'burn(?:ed|t|s)? (?:my|me|his|her|our|their)', '(?:severe|bad) burns?', 'mou?ld',
      'cockroach~',
    ],
  },
  legal_threat: {
    words: [
      'sue', 'suing', 'sued', 'lawyer~', 'attorney~', 'lawsuit~', 'legal action', 'class action',
      '(?:take|taking|see) (?:you|them|this|it) to court', 'in court', 'court case', 'small claims',
      'regulator~', 'ombudsman', 'consumer protection', 'report(?:ing)? (?:you|this|them) to',
      'cfpb', 'ftc', 'bbb',
    ],
  },
  fraud_claim: {
    words: [
      'scam~', 'fraud~', 'stole', 'stolen', 'steal~', 'theft',
      'unauthori[sz]ed (?:charge|transaction|payment|withdrawal|access|debit)~',
      'without my (?:consent|permission|knowledge)', 'phishing', 'ripped off', 'rip-?off', 'con artists?', 'ponzi',
      'hacked',
    ],
  },
  churn_threat: {
    words: [
      'switch(?:ing|ed)? (?:over )?to (?:another|a different|a competitor|competitors?|'
        + '(?:\\p{L}+ ){0,2}(?:instead|bank|provider|carrier|operator))',
      'mov(?:e|ing) (?:over )?to (?:another|a different|a competitor)',
      '(?:cancel~|clos(?:e|ing)|delet(?:e|ing)) (?:my|the|this) (?:account|subscription|membership|app)~',
      '(?:deleting|deleted|uninstall~) (?:the |this |your )?app', 'never again',
      "(?:won't|will not|never) (?:be )?(?:use|using|buy|buying|order|ordering|shop|shopping|come back|return|back)",
      'take my (?:business|money) elsewhere', 'going elsewhere', 'unsubscrib~', 'lost a customer',
    ],
  },
  complaint: {
    words: [
      "(?:does|did|do|will|would|is|was)(?:n't| not) (?:even )?work~", "won't work", 'not working',
      'stopped working', 'keeps? crashing', 'crash(?:es|ed|ing)', 'broken', 'refund~',
      'charged (?:me )?(?:twice|double|again|two times)', 'double[- ]charged', 'still waiting', 'been waiting',
      'waited (?:for )?(?:over |more than )?(?:[0-9]+|an?|two|three|four|five)',
      'never (?:arrived|received|came|showed)',
      "(?:has|have|did)(?:n't| not) (?:arrive|arrived|receive|received|come)",
      "(?:can't|cannot|can not|unable to) (?:log|sign|access|login|pay|withdraw|reach|get|contact|open|use)",
      '(?:terrible|awful|horrible|worst|disgusting|appalling|pathetic|poor|bad|rude) (?:customer )?'
        + '(?:service|support|experience|quality|app|delivery|company|bank|staff)',
      'unacceptable', 'complain~', '(?:account|card) (?:was |got |is |has been )?(?:blocked|locked|frozen|suspended)',
      'blocked my', 'locked out', '(?:no one|nobody) (?:answers|responds|replies|helps)', 'no response',
      'not responding', 'ignor(?:ed|ing)', 'late delivery', 'arrived (?:late|damaged|broken)', 'missing',
      "(?:not|(?:wouldn|don|can|won)'t) recommend", 'disappointed',
    ],
  },
  question: {
    raw: [
      `${B}(?:how|why|when|where|what|which|who|can|could|would|will|is|are|do|does|did|should|any|anyone|`
        + `has|have)${ASKS}`,
    ],
    words: [
      'please (?:help|advise|assist|tell|let me know|explain|contact|call|fix|check|respond|reply)',
      '(?:can|could) (?:someone|anyone|you) help', 'need help', 'i was wondering', 'is there a way',
    ],
  },
  praise: {
    words: [
      'thank you (?:so|very) much', 'thanks (?:a lot|so much)', 'many thanks', 'huge thanks',
      'love (?:it|this|you|your|the)', 'best (?:service|app|bank|delivery|customer|support|experience|company|ever)',
      "(?<!(?:not|n't)\\s+)(?:highly )?recommend(?:ed)? (?:it|them|this|you)", 'highly recommend',
      '(?:amazing|excellent|outstanding|awesome|fantastic|superb|great) (?:customer )?(?:service|support|job|'
        + 'work|team|experience|app|staff)',
      'kudos', 'well done', 'you (?:guys )?rock', '(?:5|five) stars',
    ],
  },
  ad: {
    words: [
      'use (?:my |the )?(?:promo )?code', '(?:promo|discount|coupon) code\\s*[:"“]\\s*[a-z0-9]+',
      '(?:promo|discount|coupon) code [a-z]*[0-9]', 'sponsored', 'link in (?:my )?bio', 'affiliate link',
      'paid partnership',
    ],
  },
  spam: {
    words: [
      'crypto giveaway', 'giveaway (?:btc|eth|usdt|crypto|bitcoin)', 'free (?:btc|bitcoin|eth|crypto|usdt)',
      'double your (?:btc|bitcoin|crypto|money)', 'earn \\$?[0-9]+\\S* (?:per|a|every) (?:day|week|hour)',
      'work from home', 'dm me', 'onlyfans', 'casino',
    ],
  },
  news: {
    words: [
      'according to', 'reported', 'reports that', 'announced', 'said in a statement', 'press release',
      'spokes(?:person|man|woman)', 'told (?:reporters|journalists|reuters)', 'the company said', 'officials said',
      'breaking:',
    ],
  },
  firstPerson: { words: ["i(?:'m|'ve|'d|'ll)?", 'me', 'my', 'mine', 'myself'] },
};

// Markers that mean the same in every language.
const COMMON: Lexicon = {
  ad: { raw: [`#(?:ad|ads|sponsored|promo|реклама|жарнама|reklama)${E}`], words: ['erid'] },
  spam: {
    raw: [
      // One letter or digit ten times over, or the whole text one token repeated.
      '(?<ch>[\\p{L}\\p{N}])\\k<ch>{9,}',
      '^\\s*(?<tok>\\S{1,20})(?:\\s+\\k<tok>){4,}\\s*$',
    ],
  },
};

// Kazakh and Uzbek speakers mix in Russian freely; an undetected language gets every lexicon.
const LEXICONS: Record<Lang, readonly Lexicon[]> = {
  ru: [RU, COMMON],
  kk: [KK, RU, COMMON],
  uz: [UZ, RU, COMMON],
  en: [EN, COMMON],
  other: [RU, KK, UZ, EN, COMMON],
};

const WORDS_GAP = `\\s+(?:[${WORD_CHAR}'-]+\\s+){0,2}`;

function expand(pattern: string): string {
  return foldLetters(pattern)
    .replaceAll(' … ', WORDS_GAP)
    .replaceAll(' ', '\\s+')
    .replaceAll('~', `[${LETTER}]*`)
    .replaceAll('[\\p{L}\\p{N}]', `[${WORD_CHAR}]`)
    .replaceAll('\\p{L}', `[${LETTER}]`);
}

function compile(lexicons: readonly Lexicon[], key: RuleKey): RegExp | null {
  const words = lexicons.flatMap((lexicon) => lexicon[key]?.words ?? []);
  const raw = lexicons.flatMap((lexicon) => lexicon[key]?.raw ?? []);
  const parts = raw.map(expand);
  if (words.length > 0) parts.unshift(`${B}(?:${words.map(expand).join('|')})${E}`);
  return parts.length > 0 ? new RegExp(parts.join('|')) : null;
}

type Rules = Record<RuleKey, RegExp | null>;
const RULE_KEYS: readonly RuleKey[] = [...REASON_PRIORITY, 'ad', 'spam', 'news', 'firstPerson'];
const RULES = Object.fromEntries(
  Object.entries(LEXICONS).map(([lang, lexicons]) => [
    lang,
    Object.fromEntries(RULE_KEYS.map((key) => [key, compile(lexicons, key)])) as Rules,
  ]),
) as Record<Lang, Rules>;

function reasonsIn(normalized: string, rules: Rules): ActionReason[] {
  const found: ActionReason[] = [];
  for (const reason of REASON_PRIORITY) {
    if (rules[reason]?.test(normalized)) found.push(reason);
  }
  return found;
}

/** The reasons found in a text by the rules alone (for preview/explanations). */
export function findActionReasons(text: string, lang: Lang): ActionReason[] {
  return reasonsIn(normalize(text), RULES[lang] ?? RULES.other);
}

const LINK_OR_TAG = new RegExp(`(?:https?://|www\\.)\\S+|#[${WORD_CHAR}_]+`, 'g');
const TOKEN = /\S+/g;

/** More links and hashtags than words. */
function mostlyLinks(text: string): boolean {
  if (!text.includes('#') && !text.includes('http') && !text.includes('www.')) return false;
  const links = text.match(LINK_OR_TAG)?.length ?? 0;
  return links >= 2 && links * 2 > (text.match(TOKEN)?.length ?? 0);
}

function exclusion(input: ActionabilityInput, normalized: string, rules: Rules): ActionExclusion | null {
  if (input.ownPost) return 'own_post';
  if (input.answered) return 'answered';
  if (input.sponsored === true || rules.ad?.test(normalized)) return 'ad';
  if (mostlyLinks(normalized) || rules.spam?.test(normalized)) return 'spam';
  // Someone telling their own story is a customer, even when they write like a reporter.
  if (rules.news?.test(normalized) && !rules.firstPerson?.test(normalized)) return 'news';
  return null;
}

export function assessActionability(input: ActionabilityInput): Actionability {
  const rules = RULES[input.lang] ?? RULES.other;
  const normalized = normalize(input.text);
  const { label, confidence, lowConfidence } = input.sentiment;
  const rating = input.rating !== null && input.rating >= 1 && input.rating <= 5 ? input.rating : null;
  const confident = confidence >= CONFIDENT && !lowConfidence;
  // A `mixed` label is negative through its rating alone.
  const negative = (label === 'negative' && confident) || (rating !== null && rating <= 2);
  const positive = !negative && ((label === 'positive' && confident) || (rating !== null && rating >= 4));

  let reasons = reasonsIn(normalized, rules);
  // Thanks are only owed for praise that is meant: sarcasm comes with a negative label.
  if (!positive && reasons.at(-1) === 'praise') reasons.pop();
  // A clearly negative mention is a complaint unless a rule found a graver grievance; a negative question
  // is a complaint too.
  if (negative && !reasons.some((r) => GRIEVANCES.has(r))) {
    reasons = REASON_PRIORITY.filter((r) => r === 'complaint' || reasons.includes(r));
  }

  const excludedBy = reasons.length > 0 ? exclusion(input, normalized, rules) : null;
  return { actionable: reasons.length > 0 && excludedBy === null, reasons, excludedBy };
}
