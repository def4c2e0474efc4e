package chat

import "strings"

// The fr-CA catalogue: every sentence of this package, keyed by its
// English wording (TestCatalogueComplete fails on any sentence without its
// French, naming it and where it is said; add the French here when you add
// a sentence). Formatting verbs must match the English (%[2]v where French
// puts them in another order); leading and trailing spaces too, where a
// fragment joins a date, a name or a command.
//
// Register: formal and inclusive. The person is "vous"; nobody's gender is
// assumed: possessives ("votre gestionnaire de compte"), épicène nouns
// ("personne", "équipe d'administration"), "lui" rather than a participle
// that would agree, and full doublets only where nothing else reads well
// ("client ou cliente"). No anglicisms: "courriel", not "email"; "fiche",
// not "card".
//
// Typography (Canadian usage, Bureau de la traduction): a space before the
// colon and inside « », none before ; ? !. Write an ordinary space here:
// frenchTypography makes the ones before ":" and inside « » non-breaking,
// so a colon never starts a line.
//
// Glossary: the same words everywhere.
//
//	co-managed IT            TI cogérées (des TI cogérées)
//	fully managed IT         TI entièrement gérées
//	the audit                l'audit (m.); retake it: refaire l'audit
//	the card                 la fiche (de recommandation)
//	recommendation, verdict  recommandation, verdict
//	a clear / likely fit     un choix net / un choix probable
//	a close call             un choix serré
//	provider                 le fournisseur (a company)
//	your team                votre équipe
//	account manager          gestionnaire de compte (épicène: "votre
//	                         gestionnaire de compte", "la personne
//	                         gestionnaire de mon compte")
//	client (to a manager)    dossier client; a person: client ou cliente
//	reminder (to the user)   rappel; remind: rappeler
//	nudge (to a manager)     avis
//	revisit                  réévaluation (annuelle); réévaluer
//	snooze                   reporter (d'un mois)
//	start over               recommencer
//	forget / erase           oublier / effacer
//	workspace                espace de travail
//	direct messages          messages directs
//	button                   bouton
var frCA = map[string]string{
	// Questions and answers.
	"Question":          "Question",
	"Question %d of %d": "Question %d sur %d",
	"type the numbers that apply, such as 1,3": "tapez les numéros qui s'appliquent, par exemple 1,3",
	"Choose all that apply":                    "Choisissez toutes les réponses qui s'appliquent",
	"Choose at least one option.":              "Choisissez au moins une option.",
	"Continue":                                 "Continuer",
	"tick all that apply, then Continue":       "cochez tout ce qui s'applique, puis Continuer",
	"Back":                                     "Retour",
	"Start over":                               "Recommencer",
	"Start over?":                              "Recommencer?",
	"Your answers so far will be dropped and the audit begins again.": "Vos réponses seront effacées et l'audit reprendra depuis le début.",
	"Keep going": "Continuer l'audit",
	"not asked":  "question non posée",
	"↩ You went back to the previous question.":                                                                                  "↩ Retour à la question précédente.",
	"↩ You started over.":                                                                                                        "↩ Audit recommencé.",
	"You went back. Your earlier answer was: ":                                                                                   "Retour à la question précédente. Votre réponse était : ",
	"This is the first question, so there is nothing to go back to.":                                                             "C'est la première question : il n'y a rien avant.",
	"That button is from an earlier point in the audit, so it changed nothing. Here is where you are.":                           "Ce bouton date d'une étape antérieure de l'audit; il n'a donc rien changé. Voici où vous en êtes.",
	"That question was already answered, so nothing changed. Here is where you are.":                                             "Vous avez déjà répondu à cette question; rien n'a changé. Voici où vous en êtes.",
	"The questions have changed since you started, so the audit begins again.":                                                   "Les questions ont changé depuis que vous avez commencé; l'audit reprend donc depuis le début.",
	"Here is your result. ":                                                                                                      "Voici votre résultat. ",
	" (or Start over) takes the audit again.":                                                                                    " (ou le bouton Recommencer) permet de refaire l'audit.",
	"Welcome back: picking up where you left off.":                                                                               "Bon retour : nous reprenons là où vous étiez.",
	"Starting again from the first question.":                                                                                    "Reprise depuis la première question.",
	"Here is the audit again: at the end I'll show you what changed since last time.":                                            "Voici de nouveau l'audit : à la fin, je vous montrerai ce qui a changé depuis la dernière fois.",
	"This audit continued in another thread, so that button changed nothing. Here is where you are, to carry on in this thread.": "Cet audit s'est poursuivi dans un autre fil; ce bouton n'a donc rien changé. Voici où vous en êtes, pour continuer dans ce fil-ci.",
	"Got it.":             "C'est noté.",
	"Retaking the audit.": "Vous refaites l'audit.",

	// Problems with what was typed or pressed.
	"That button is not one itfit recognises, so it changed nothing.":                                                  "itfit ne reconnaît pas ce bouton; il n'a donc rien changé.",
	"Please type the number of an option.":                                                                             "Veuillez taper le numéro d'une option.",
	"Please answer with option numbers from 1 to %d, such as 2 or 1,3.":                                                "Veuillez répondre par des numéros d'option de 1 à %d, par exemple 2 ou 1,3.",
	"There is no option %d; choose from 1 to %d.":                                                                      "Il n'y a pas d'option %d; choisissez de 1 à %d.",
	"You chose %d twice; choose each option once.":                                                                     "Vous avez choisi %d deux fois; choisissez chaque option une seule fois.",
	"Option %d cannot be combined with others; choose it alone, or leave it out.":                                      "L'option %d ne peut pas être combinée à d'autres; choisissez-la seule, ou laissez-la de côté.",
	"That input is not valid text; please type the number of an option.":                                               "Ce texte n'est pas valide; veuillez taper le numéro d'une option.",
	"Choose the person to send your result to first, then send it.":                                                    "Choisissez d'abord la personne à qui envoyer votre résultat, puis envoyez-le.",
	"Choose just one person to send your result to.":                                                                   "Choisissez une seule personne à qui envoyer votre résultat.",
	"I couldn't tell who you chose; please search for them again.":                                                     "Je n'ai pas pu déterminer quelle personne vous avez choisie; veuillez refaire la recherche.",
	"That's you: choose your account manager, and I'll send them your result.":                                         "C'est vous : choisissez votre gestionnaire de compte, et je lui enverrai votre résultat.",
	"I couldn't read that. Nothing changed; please try again.":                                                         "Je n'ai pas pu lire cette demande. Rien n'a changé; veuillez réessayer.",
	"The platform asked itfit to slow down, so that did not go through. Please try again in %d seconds.":               "La plateforme a demandé à itfit de ralentir; la demande n'a donc pas abouti. Veuillez réessayer dans %d secondes.",
	"“%s” cannot be combined with other options; choose either.":                                                       "L'option « %s » ne peut pas être combinée à d'autres options; choisissez l'une ou les autres.",
	"Please choose at least one option.":                                                                               "Veuillez choisir au moins une option.",
	"Please choose just one option.":                                                                                   "Veuillez choisir une seule option.",
	"“None” cannot be combined with other options; choose either.":                                                     "« Aucune » ne peut pas être combinée à d'autres options; choisissez l'une ou les autres.",
	"An option was chosen twice; choose each option once.":                                                             "Une option a été choisie deux fois; choisissez chaque option une seule fois.",
	"That answer is not one of the options for this question.":                                                         "Cette réponse ne fait pas partie des options de cette question.",
	"Finish the audit first: the reminder is about its result.":                                                        "Terminez d'abord l'audit : le rappel porte sur son résultat.",
	"You have shared your result as many times as a day allows, so nothing was sent; you can share it again tomorrow.": "Vous avez partagé votre résultat autant de fois que permis pour aujourd'hui; rien n'a été envoyé. Vous pourrez le partager de nouveau demain.",
	"Reminders are not switched on for this platform, so nothing was scheduled.":                                       "Les rappels ne sont pas activés sur cette plateforme; rien n'a été programmé.",
	"I couldn't reach them, so nothing was sent: itfit has to be installed for them first. They can add it from the apps in their workspace (or an admin can install it for them); then share again.": "Je n'ai pas pu joindre cette personne; rien n'a été envoyé : itfit doit d'abord être installé pour elle. Elle peut l'ajouter à partir des applications de son espace de travail (ou l'équipe d'administration peut l'installer pour elle); partagez ensuite de nouveau.",
	"itfit is temporarily unavailable. Your answers so far are safe; please try again in a minute.":                                                                                                   "itfit est temporairement indisponible. Vos réponses sont en sécurité; veuillez réessayer dans une minute.",
	"Something went wrong on our side. Your answers so far are safe; please try again.":                                                                                                               "Un problème est survenu de notre côté. Vos réponses sont en sécurité; veuillez réessayer.",

	// Strengths and owners.
	"a clear fit":  "un choix net",
	"a likely fit": "un choix probable",
	"a close call": "un choix serré",
	"Provider":     "Fournisseur",
	"Shared":       "Partagé",
	"Your team":    "Votre équipe",

	// The card.
	"Remind me in 12 months":        "Me le rappeler dans 12 mois",
	"Share with my account manager": "Partager avec la personne gestionnaire de mon compte",
	"They get a copy of this result now, and a nudge when your yearly revisit is due.": "Cette personne reçoit une copie de ce résultat dès maintenant, puis un avis quand votre réévaluation annuelle arrive à échéance.",
	"Your account manager":             "Votre gestionnaire de compte",
	"Search for a person":              "Rechercher une personne",
	"Choose the person to send it to.": "Choisissez la personne à qui l'envoyer.",
	"Send my result":                   "Envoyer mon résultat",
	"Recommendation: %s":               "Recommandation : %s",
	" is %s. ":                         " : %s. ",
	"Recommendation: %s (%s). %s":      "Recommandation : %s (%s). %s",
	"Recommendation for %s: %s":        "Recommandation pour %s : %s",
	"What the provider would cover":    "Ce que le fournisseur prendrait en charge",
	"What your team keeps":             "Ce que votre équipe conserve",
	"Nothing in particular":            "Rien de particulier",
	"Responsibility matrix (agree it in writing before day one)": "Matrice des responsabilités (à convenir par écrit avant le premier jour)",
	"Co-managed":                  "TI cogérées",
	"Fully managed":               "TI entièrement gérées",
	"Co-managed vs fully managed": "TI cogérées ou entièrement gérées",
	"Next steps":                  "Prochaines étapes",
	"Pointing to %s":              "Arguments en faveur : %s",
	"Pointing the other way":      "Ce qui pèse dans l'autre sens",
	"Also in your answers, though the answer above settles it":                        "Aussi dans vos réponses, même si la réponse ci-dessus tranche la question",
	"What would change this":                                                          "Ce qui changerait ce verdict",
	"Within the questions you were asked, no change of answers would tip this to %s.": "Parmi les questions qui vous ont été posées, aucun changement de réponse ne ferait passer le verdict à « %s ».",
	"your answer to “%s” were “%s”":                                                   "votre réponse à « %s » était « %s »",
	"If %s, this would tip to %s.":                                                    "Si %s, le verdict passerait à « %s ».",
	" and ":                                                                           " et ",
	", ":                                                                              ", ",
	"%s (shared with your team)":                                                      "%s (en partage avec votre équipe)",
	"%s: %s":                                                                          "%s : %s",
	"%s: usual in a co-managed split":                                                 "%s : courant dans une formule de TI cogérées",
	"Revisit this decision by %v: teams and businesses change. Completed %v · audit %v": "Réévaluez cette décision d'ici le %v : les équipes et les entreprises changent. Audit terminé le %v · version %v",
	"%v on %v it was %v, now it is %v (%v).":                                            "%v le %v, c'était %v; c'est maintenant %v (%v).",
	"%v on %v it was %v, now it is %v.":                                                 "%v le %v, c'était %v; c'est maintenant %v.",
	"Since last time":                                                                   "Depuis la dernière fois",
	"The verdict moved:":                                                                "Le verdict a changé :",
	"Same verdict:":                                                                     "Même verdict :",
	"You answered every question as before.":                                            "Vous avez répondu à chaque question comme la dernière fois.",
	"Answers that changed":                                                              "Réponses modifiées",

	// Sharing, nudges and reminders.
	"Shared with you by %v: their itfit result of %v.": "Résultat itfit transmis par %v : son audit du %v.",
	"Shared with you: %s":                              "Résultat qui vous a été transmis : %s",
	"Audit taken":                                      "Audit fait le",
	"Verdict":                                          "Verdict",
	"Strength":                                         "Degré de confiance",
	"Time to revisit your IT decision":                 "Le moment est venu de réévaluer votre décision en matière de TI",
	"It has been a while since your itfit audit. On %v it concluded %v, %v.":                            "Votre audit itfit remonte à un certain temps déjà. Le %v, il concluait : %v, %v.",
	"Time to revisit your IT decision: last time the audit concluded %s.":                               "Le moment est venu de réévaluer votre décision en matière de TI : la dernière fois, l'audit concluait : %s.",
	"Your account manager invited you to retake the audit":                                              "Votre gestionnaire de compte vous invite à refaire l'audit",
	"Your account manager would like to check the decision with you. On %v the audit concluded %v, %v.": "Votre gestionnaire de compte souhaite revoir la décision avec vous. Le %v, l'audit concluait : %v, %v.",
	"Your account manager invited you to retake the itfit audit: last time it concluded %s.":            "Votre gestionnaire de compte vous invite à refaire l'audit itfit : la dernière fois, il concluait : %s.",
	"Teams and businesses change: a retake takes two minutes and shows what moved.":                     "Les équipes et les entreprises changent : refaire l'audit prend deux minutes et montre ce qui a bougé.",
	"Retake the audit": "Refaire l'audit",
	"Snooze 1 month":   "Reporter d'un mois",
	"Stop reminders":   "Arrêter les rappels",
	"Stop reminders?":  "Arrêter les rappels?",
	"No more revisit reminders will be sent to you, or nudges to your account manager. Your last result stays.": "Vous ne recevrez plus de rappels de réévaluation, et votre gestionnaire de compte ne recevra plus d'avis. Votre dernier résultat est conservé.",
	"Stop them":                           "Les arrêter",
	"Keep them":                           "Les garder",
	"Client":                              "Dossier client",
	"A client's yearly IT revisit is due": "Réévaluation annuelle des TI d'un dossier client",
	"A year on from their itfit audit, this client's decision is due for a revisit. Last time it concluded ": "Un an après son audit itfit, la décision de ce client ou de cette cliente est à réévaluer. La dernière fois, l'audit concluait : ",
	"A client's yearly IT revisit is due: last result %s.":                                                   "Réévaluation annuelle des TI d'un dossier client : dernier résultat, %s.",
	"Invite them to retake": "L'inviter à refaire l'audit",
	"You have no reminders scheduled. Finish the audit and press “Remind me in 12 months” on the card to get one.": "Vous n'avez aucun rappel programmé. Terminez l'audit et appuyez sur « Me le rappeler dans 12 mois » sur la fiche pour en recevoir un.",
	"Your reminders": "Vos rappels",
	"A reminder to you to revisit the decision, on %v":                                   "Un rappel pour vous, afin de réévaluer la décision, le %v",
	"your account manager":                                                               "votre gestionnaire de compte",
	"A nudge to %v with your last result, on %v":                                         "Un avis à %v avec votre dernier résultat, le %v",
	" erases everything itfit holds about you.":                                          " efface tout ce qu'itfit conserve à votre sujet.",
	"Done: I'll remind you on %v to revisit the decision, with your answers to compare.": "C'est noté : je vous le rappellerai le %v pour réévaluer la décision, avec vos réponses à comparer.",
	"Sent: ": "Envoyé : ",
	" has a copy of this result. When your yearly revisit comes round (press “Remind me in 12 months” if you haven't), they'll be nudged too.": " a reçu une copie de ce résultat. Au moment de votre réévaluation annuelle (appuyez sur « Me le rappeler dans 12 mois » si ce n'est pas déjà fait), cette personne recevra aussi un avis.",
	"Snoozed: I'll remind you again on %v.": "Reporté : je vous le rappellerai le %v.",
	"Stopped: no more revisit reminders will be sent, to you or your account manager. “Remind me in 12 months” on a card schedules one again.":             "Rappels arrêtés : ni vous ni votre gestionnaire de compte ne recevrez plus de rappel de réévaluation. « Me le rappeler dans 12 mois » sur une fiche en programme un de nouveau.",
	"You had no reminders scheduled, so there was nothing to stop.":                                                                                        "Vous n'aviez aucun rappel programmé; il n'y avait donc rien à arrêter.",
	"Reminders are not switched on in this deployment, so nothing was scheduled or changed. Put the revisit date from your card in your calendar instead.": "Les rappels ne sont pas activés dans ce déploiement; rien n'a été programmé ni modifié. Inscrivez plutôt la date de réévaluation de votre fiche à votre agenda.",
	"Only the account manager of ": "Seule la personne gestionnaire du compte de ",
	"this client":                  "ce client ou cette cliente",
	" can invite them to retake, so nothing was sent.": " peut lui proposer de refaire l'audit; rien n'a été envoyé.",
	"your client": "votre client ou cliente",
	"They were already invited from this message.":                                                     "L'invitation a déjà été envoyée à partir de ce message.",
	"I can't invite them any more: they have no itfit result now, or removed itfit. Nothing was sent.": "Je ne peux plus lui envoyer d'invitation : cette personne n'a plus de résultat itfit, ou a retiré itfit. Rien n'a été envoyé.",
	"Invitation sent: ":                    "Invitation envoyée à ",
	" has been asked to retake the audit.": " : nous lui avons proposé de refaire l'audit.",
	"a client":                             "un client ou une cliente",
	"a client (Slack user %s)":             "un client ou une cliente (compte Slack %s)",
	"workspace %s":                         "espace de travail %s",

	// Forget.
	"Erase everything itfit holds about you?": "Effacer tout ce qu'itfit conserve à votre sujet?",
	"Your audit in progress, your past results, your scheduled reminders and the account manager you shared with. Nothing is erased until you press the button.": "Votre audit en cours, vos résultats antérieurs, vos rappels programmés et la personne gestionnaire de compte à qui vous avez transmis votre résultat. Rien n'est effacé avant que vous appuyiez sur le bouton.",
	"Yes, erase everything": "Oui, tout effacer",
	"Erase everything?":     "Tout effacer?",
	"Your audits, results, reminders and the account manager you shared with are erased. This cannot be undone.": "Vos audits, vos résultats, vos rappels et la personne gestionnaire de compte à qui vous avez transmis votre résultat seront effacés. Cette action est irréversible.",
	"Erase":  "Effacer",
	"Cancel": "Annuler",
	"Done: itfit held nothing about you, so there was nothing to erase.": "C'est fait : itfit ne conservait rien à votre sujet; il n'y avait donc rien à effacer.",
	"Done: erased %s, %s, %s and %s. itfit now holds nothing about you.": "C'est fait : nous avons effacé %s, %s, %s et %s. itfit ne conserve plus rien à votre sujet.",

	// Help, hints and hellos.
	"itfit help": "Aide d'itfit",
	" asks a few questions about your IT team, the gaps nobody owns and how much control you want to keep, then recommends co-managed or fully managed IT. It takes about two minutes.": " vous pose quelques questions sur votre équipe TI, les lacunes dont personne n'est responsable et le degré de contrôle que vous voulez garder, puis recommande des TI cogérées ou entièrement gérées. Cela prend environ deux minutes.",
	" Your answers stay in your direct messages with itfit.": " Vos réponses restent dans vos messages directs avec itfit.",
	": start the audit, or carry on where you left off":      " : commencer l'audit, ou le reprendre là où vous étiez",
	": drop your answers and begin again":                    " : effacer vos réponses et recommencer",
	": where your audit stands":                              " : où en est votre audit",
	": your revisit reminders, to snooze or stop them":       " : vos rappels de réévaluation, pour les reporter ou les arrêter",
	": erase everything itfit holds about you (asks first)":  " : effacer tout ce qu'itfit conserve à votre sujet (confirmation demandée)",
	": choose English or French":                             " : choisir l'anglais ou le français",
	" or ":                                                   " ou ",
	": English or French":                                    " : l'anglais ou le français",
	": this message":                                         " : ce message",
	"Answer with the number of an option; for “choose all that apply”, numbers separated by commas, such as 1,3.": "Répondez par le numéro d'une option; pour « choisissez toutes les réponses qui s'appliquent », par des numéros séparés par des virgules, par exemple 1,3.",
	": the previous question again":                                                          " : revenir à la question précédente",
	": stop here; run the same command to carry on":                                          " : s'arrêter ici; relancez la même commande pour continuer",
	"Send me any message to start or pick up where you left off.":                            "Envoyez-moi un message pour commencer ou reprendre là où vous étiez.",
	"Everyone here gets their own audit: mention me to start or pick up where you left off.": "Chaque personne ici a son propre audit : mentionnez-moi pour commencer ou reprendre là où vous étiez.",
	"On the card, “Remind me in 12 months” schedules a reminder; “Share with my account manager” sends them a copy and has them nudged when your revisit is due.": "Sur la fiche, « Me le rappeler dans 12 mois » programme un rappel; « Partager avec la personne gestionnaire de mon compte » lui envoie une copie et lui fera parvenir un avis à l'échéance de votre réévaluation.",
	"Hello, I'm ": "Bonjour, je suis ",
	": a two-minute audit that says whether co-managed or fully managed IT fits your company. Mention me to start your own; everyone here gets their own audit, and ": " : un audit de deux minutes qui indique si des TI cogérées ou entièrement gérées conviennent à votre entreprise. Mentionnez-moi pour commencer le vôtre; chaque personne ici a son propre audit, et ",
	" lists what else I can do.":                                                               " présente tout ce que je peux faire d'autre.",
	"itfit: a two-minute audit of co-managed or fully managed IT":                              "itfit : un audit de deux minutes pour choisir entre des TI cogérées et des TI entièrement gérées",
	"The audit continues in your direct messages with itfit, where your answers stay private.": "L'audit se poursuit dans vos messages directs avec itfit, où vos réponses restent privées.",
	"Starting the audit again in your direct messages with itfit.":                             "L'audit reprend depuis le début dans vos messages directs avec itfit.",
	"I don't know “%s”, so your audit continues in your direct messages with itfit; ":          "Je ne connais pas « %s »; votre audit se poursuit donc dans vos messages directs avec itfit. ",
	"I don't know “%s”, so here is your audit; ":                                               "Je ne connais pas « %s »; voici donc votre audit. ",
	" lists what I can do.": " présente ce que je peux faire.",
	"That card belongs to someone else's audit, so I left it alone. Mention me to start your own: everyone here gets their own.": "Cette fiche appartient à l'audit d'une autre personne; je n'y ai donc pas touché. Mentionnez-moi pour commencer le vôtre : chaque personne ici a le sien.",
	"You have no audit in progress. ":      "Vous n'avez aucun audit en cours. ",
	"You finished the audit: %s, %s. ":     "Vous avez terminé l'audit : %s, %s. ",
	" takes it again.":                     " permet de le refaire.",
	"Your audit is on question %d of %d. ": "Votre audit en est à la question %d sur %d. ",
	" starts the audit or shows where you are, in your direct messages with itfit.": " commence l'audit ou indique où vous en êtes, dans vos messages directs avec itfit.",
	"Mention me to start or see where you are.":                                     "Mentionnez-moi pour commencer ou voir où vous en êtes.",
	" begins again.": " recommence l'audit.",
	"Send me any message to start or see where you are.": "Envoyez-moi un message pour commencer ou voir où vous en êtes.",

	// Notes adapters send, and the terminal.
	"itfit isn't installed in this workspace yet; ask whoever runs itfit for your company to add it.":         "itfit n'est pas encore installé dans cet espace de travail; demandez à la personne qui gère itfit pour votre entreprise de l'ajouter.",
	"itfit isn't installed in this workspace yet; an admin can add it at ":                                    "itfit n'est pas encore installé dans cet espace de travail; l'équipe d'administration peut l'ajouter à l'adresse ",
	"itfit is busy right now, so nothing changed. Please try again in a minute.":                              "itfit est très sollicité en ce moment; rien n'a changé. Veuillez réessayer dans une minute.",
	"Sorry, I couldn't show that card. Send me any message to try again.":                                     "Toutes nos excuses : je n'ai pas pu afficher cette fiche. Envoyez-moi un message pour réessayer.",
	"Bye. Your answers are saved; run the same command to carry on.":                                          "Au revoir. Vos réponses sont enregistrées; relancez la même commande pour continuer.",
	"Bye. These answers were kept in memory only and are now gone; set REDIS_URL to keep them for next time.": "Au revoir. Ces réponses n'étaient gardées qu'en mémoire et sont maintenant effacées; définissez REDIS_URL pour les conserver la prochaine fois.",
	"Using an embedded store: answers last until you quit. Set REDIS_URL to keep them.":                       "Stockage intégré : vos réponses durent jusqu'à ce que vous quittiez. Définissez REDIS_URL pour les conserver.",
	"Done: itfit erased everything about you moments ago; there is nothing more to erase.":                    "C'est fait : itfit a effacé tout ce qui vous concernait il y a quelques instants; il n'y a plus rien à effacer.",
	"Press Enter to try again, or type quit: ":                                                                "Appuyez sur Entrée pour réessayer, ou tapez quitter : ",
	"(y/N)": "(o/N)",
	"y":     "o",
	"yes":   "oui",
	"That audit has expired or was never started here, so the button changed nothing.": "Cet audit a expiré ou n'a jamais été commencé ici; le bouton n'a donc rien changé.",
	"That audit has expired, so that answer changed nothing. ":                         "Cet audit a expiré; cette réponse n'a donc rien changé. ",
	" begins a new one.":      " en commence un nouveau.",
	"That audit has expired.": "Cet audit a expiré.",
	"Start a new audit":       "Commencer un nouvel audit",
	"Start the audit":         "Commencer l'audit",
	"Your answers stay in your direct messages with itfit.": "Vos réponses restent dans vos messages directs avec itfit.",
	"Resume the audit": "Reprendre l'audit",
	"You have an audit in progress: question %d of %d.": "Vous avez un audit en cours : question %d sur %d.",
	"Your last result": "Votre dernier résultat",
	"None yet: your recommendation appears here once you finish the audit.": "Aucun pour l'instant : votre recommandation s'affichera ici une fois l'audit terminé.",
	"Completed %v · revisit by %v":                                          "Terminé le %v · à réévaluer d'ici le %v",
	"“Remind me in 12 months” on your card schedules a revisit reminder. ":  "« Me le rappeler dans 12 mois » sur votre fiche programme un rappel de réévaluation. ",
	" lists, snoozes or stops them; ":                                       " les affiche, les reporte ou les arrête; ",

	// The account manager's desk, exports and the card's PDF.
	"Your clients":                "Vos dossiers clients",
	"Your clients: %d":            "Vos dossiers clients : %d",
	"due soonest first":           "par échéance la plus proche",
	"most recently changed first": "par changement le plus récent",
	"No clients yet: clients appear here once they share their itfit result with you, or once they finish the audit in a workspace the operator assigned to you.": "Aucun dossier client pour l'instant : un dossier s'affiche ici dès que la personne vous transmet son résultat itfit, ou termine l'audit dans un espace de travail qui vous est attribué.",
	"You have %d clients; this page is past the last of them.": "Vous avez %d dossiers clients; cette page se trouve après le dernier.",
	"Clients %d–%d of %d, %s.":                                 "Dossiers clients %d à %d sur %d, %s.",
	"Due soonest":                                              "Échéance la plus proche",
	"Changed recently":                                         "Changements récents",
	"Export CSV":                                               "Exporter en CSV",
	"Export JSON":                                              "Exporter en JSON",
	"← Previous":                                               "← Précédent",
	"Next →":                                                   "Suivant →",
	"Invite to retake asks the client to take the audit again now; Snooze the nudge moves your reminder about them a month on. Only clients who shared their result with you, or whose workspace is assigned to you, are listed.": "« L'inviter à refaire l'audit » propose à la personne de refaire l'audit dès maintenant; « Reporter l'avis » repousse d'un mois votre rappel à son sujet. Seuls les dossiers des personnes qui vous ont transmis leur résultat, ou dont l'espace de travail vous est attribué, sont listés.",
	"Latest result":                     "Dernier résultat",
	"Completed":                         "Terminé le",
	"Since the previous result":         "Depuis le résultat précédent",
	"Next revisit due":                  "Prochaine réévaluation",
	"Invite to retake":                  "L'inviter à refaire l'audit",
	"Show the card":                     "Afficher la fiche",
	"Snooze the nudge":                  "Reporter l'avis",
	"First result":                      "Premier résultat",
	"The verdict moved: it was %s (%s)": "Le verdict a changé : c'était %s (%s)",
	"Same verdict, same answers":        "Même verdict, mêmes réponses",
	"%v: their itfit result of %v, from your desk.": "%v : son résultat itfit du %v, tiré de vos dossiers clients.",
	"You have no clients on your desk yet: clients appear here once they share their itfit result with you, or once the operator assigns you their workspace.": "Vous n'avez encore aucun dossier client : un dossier s'affiche ici dès que la personne vous transmet son résultat itfit, ou que l'exploitant vous attribue son espace de travail.",
	"Your client list is private: ask me for it in our 1:1 chat.":                        "Votre liste de dossiers clients est confidentielle : demandez-la-moi dans notre conversation privée.",
	"Your clients are in your direct messages with itfit.":                               "Vos dossiers clients sont dans vos messages directs avec itfit.",
	"That client is not on your desk, so nothing changed.":                               "Ce dossier client ne fait pas partie des vôtres; rien n'a changé.",
	"That client has no itfit result any more, so there is no card to show.":             "Cette personne n'a plus de résultat itfit; il n'y a donc aucune fiche à afficher.",
	"Snoozed: %v is due for a revisit on %v, and your nudge about them moved there too.": "Reporté : la réévaluation de %v est prévue le %v, et votre avis à son sujet a été déplacé à cette date.",
	"They were already invited in the last hour.":                                        "Une invitation lui a déjà été envoyée au cours de la dernière heure.",
	"Your itfit clients":                 "Vos dossiers clients itfit",
	"Your export of your clients (CSV)":  "L'exportation de vos dossiers clients (CSV)",
	"Your export of your clients (JSON)": "L'exportation de vos dossiers clients (JSON)",
	"Your recommendation as a PDF":       "Votre recommandation en PDF",
	"Downloads are not switched on in this deployment, so there is no link to give you.": "Les téléchargements ne sont pas activés dans ce déploiement; il n'y a donc aucun lien à vous donner.",
	"%v: %v The link works once, for you, for %v minutes (until %v).":                    "%v : %v Le lien fonctionne une seule fois, pour vous seulement, pendant %v minutes (jusqu'au %v).",
	"Download the recommendation (PDF)":                                                  "Télécharger la recommandation (PDF)",

	// Add to Slack's result pages (internal/slackauth).
	"Something went wrong on our side. Please try again.":                                             "Un problème est survenu de notre côté. Veuillez réessayer.",
	"Slack did not complete the installation.":                                                        "Slack n'a pas terminé l'installation.",
	"Slack did not complete the installation (%s).":                                                   "Slack n'a pas terminé l'installation (%s).",
	"itfit cannot finish the installation right now. Please try again in a minute.":                   "itfit ne peut pas terminer l'installation pour le moment. Veuillez réessayer dans une minute.",
	"Slack sent no authorisation code.":                                                               "Slack n'a envoyé aucun code d'autorisation.",
	"Slack did not accept the installation. The link may have been used already; please start again.": "Slack n'a pas accepté l'installation. Le lien a peut-être déjà servi; veuillez recommencer.",
	"Slack's answer was incomplete. Please start again.":                                              "La réponse de Slack était incomplète. Veuillez recommencer.",
	"itfit could not save the installation. Please try again in a minute.":                            "itfit n'a pas pu enregistrer l'installation. Veuillez réessayer dans une minute.",
	"This installation link has expired. Please start again.":                                         "Ce lien d'installation a expiré. Veuillez recommencer.",
	"This installation was started in another browser. Please start again in this one.":               "Cette installation a été commencée dans un autre navigateur. Veuillez recommencer dans celui-ci.",
	"This installation link is not valid or has already been used. Please start again.":               "Ce lien d'installation n'est pas valide ou a déjà servi. Veuillez recommencer.",
	"itfit is installed":                                   "itfit est installé",
	"itfit is installed in %s.":                            "itfit est installé dans %s.",
	"Type /itfit in Slack to start the audit.":             "Tapez /itfit dans Slack pour commencer l'audit.",
	"Open itfit in Slack":                                  "Ouvrir itfit dans Slack",
	"itfit was not installed":                              "itfit n'a pas été installé",
	"Start again":                                          "Recommencer",
	"You cancelled the installation; nothing was changed.": "Vous avez annulé l'installation; rien n'a été modifié.",
	"Add itfit to Slack":                                   "Ajouter itfit à Slack",

	// Language. Each language's sentence says it of itself.
	"Language":                       "Langue",
	"itfit speaks English with you.": "itfit communique avec vous en français.",
	"Type %v or %v to switch.":       "Tapez %v ou %v pour changer de langue.",
	"Choose the language itfit uses with you: it applies to your audit, your card and your reminders.": "Choisissez la langue qu'itfit utilise avec vous : elle s'applique à votre audit, à votre fiche et à vos rappels.",
	"itfit speaks English and French; type %v or %v.":                                                  "itfit parle anglais et français; tapez %v ou %v.",
	"This deployment cannot keep a language choice, so nothing changed.":                               "Ce déploiement ne peut pas conserver de choix de langue; rien n'a changé.",
	"Done: itfit speaks English with you from now on, in your audit, your card and your reminders.":    "C'est fait : itfit communique désormais avec vous en français, dans votre audit, votre fiche et vos rappels.",
}

// frCAPlurals are the sentences with a count, keyed by their English
// plural: French counts 0 and 1 as one.
var frCAPlurals = map[string]plurals{
	"%d audit sessions":      {"%d séance d'audit", "%d séances d'audit"},
	"%d past results":        {"%d résultat antérieur", "%d résultats antérieurs"},
	"%d scheduled reminders": {"%d rappel programmé", "%d rappels programmés"},
	"%d other records (where to reach you, your account manager, button records)": {
		"%d autre donnée (où vous joindre, votre gestionnaire de compte, traces des boutons)",
		"%d autres données (où vous joindre, votre gestionnaire de compte, traces des boutons)"},
	"That answer means %d questions no longer apply, so there are fewer to go.": {
		"Avec cette réponse, %d question ne s'applique plus : il en reste donc moins.",
		"Avec cette réponse, %d questions ne s'appliquent plus : il en reste donc moins."},
	"…and %d more answers changed":     {"…et %d autre réponse modifiée", "…et %d autres réponses modifiées"},
	"Same verdict; %d answers changed": {"Même verdict; %d réponse modifiée", "Même verdict; %d réponses modifiées"},
	"Sent: the export of your %d clients is in your direct messages with itfit.": {
		"Envoyé : l'exportation (%d dossier client) se trouve dans vos messages directs avec itfit.",
		"Envoyé : l'exportation (%d dossiers clients) se trouve dans vos messages directs avec itfit."},
	"Your itfit clients: %d clients, as of ": {"Vos dossiers clients itfit : %d dossier, au ", "Vos dossiers clients itfit : %d dossiers, au "},
}

// nbsp is the non-breaking space French puts before a colon and inside
// guillemets.
const nbsp = "\u00a0"

var frenchSpaces = strings.NewReplacer(" :", nbsp+":", "« ", "«"+nbsp, " »", nbsp+"»")

// frenchTypography makes the spaces French typography keeps with a mark
// non-breaking.
func frenchTypography(s string) string { return frenchSpaces.Replace(s) }
